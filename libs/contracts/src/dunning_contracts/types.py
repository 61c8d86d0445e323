"""Wire types shared by every event: money as a decimal string, aware datetimes, ISO 4217 codes."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, PlainSerializer, StringConstraints, WithJsonSchema


def _decimal_from_wire(value: Any) -> Decimal:
    # Floats are refused: a binary float cannot carry an exact amount of money.
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("must be a decimal string such as \"1234.50\", not a float")
    if isinstance(value, int | Decimal):
        return _bounded(Decimal(value))
    if not isinstance(value, str):
        raise ValueError("must be a decimal string such as \"1234.50\"")
    try:
        parsed = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not parsed.is_finite():
        raise ValueError("must be a finite decimal number")
    return _bounded(parsed)


# "1e999999999" is a valid decimal whose plain form has a billion digits: bound it before anyone prints it.
MAX_INTEGER_DIGITS = 30
MAX_DECIMAL_PLACES = 18


def _bounded(value: Decimal) -> Decimal:
    if value != 0 and value.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(f"must have at most {MAX_INTEGER_DIGITS} digits before the decimal point")
    if value.as_tuple().exponent < -MAX_DECIMAL_PLACES:
        raise ValueError(f"must have at most {MAX_DECIMAL_PLACES} decimal places")
    return value


_DECIMAL_SCHEMA = {
    "type": "string",
    "pattern": rf"^-?\d{{1,{MAX_INTEGER_DIGITS}}}(\.\d{{1,{MAX_DECIMAL_PLACES}}})?$",
    "examples": ["1234.50"],
}

Decimal_ = Annotated[
    Decimal,
    BeforeValidator(_decimal_from_wire),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
    WithJsonSchema(_DECIMAL_SCHEMA),
]


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


Money = Annotated[Decimal_, AfterValidator(_not_negative)]
PositiveMoney = Annotated[Decimal_, AfterValidator(_positive)]
Rate = Annotated[Decimal_, AfterValidator(_not_negative)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Timestamp = AwareDatetime
Day = date
Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]

__all__ = ["Money", "PositiveMoney", "Rate", "Currency", "Timestamp", "Day", "Id", "datetime"]
