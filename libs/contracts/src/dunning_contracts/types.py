"""Wire types shared by every event: money as a decimal string, aware datetimes, ISO 4217 codes."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, PlainSerializer, PlainValidator, StringConstraints, WithJsonSchema


def _decimal_from_wire(value: Any) -> Decimal:
    if type(value) is str:  # what the wire carries, so tried first
        return _bounded(_parsed(value), len(value))
    # Floats are refused: a binary float cannot carry an exact amount of money.
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("must be a decimal string such as \"1234.50\", not a float")
    if isinstance(value, int | Decimal):
        return _bounded(Decimal(value))
    if not isinstance(value, str):
        raise ValueError("must be a decimal string such as \"1234.50\"")
    return _bounded(_parsed(value), len(value))


def _parsed(text: str) -> Decimal:
    try:
        parsed = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not parsed.is_finite():
        raise ValueError("must be a finite decimal number")
    return parsed


# "1e999999999" is a valid decimal whose plain form has a billion digits: bound it before anyone prints it.
MAX_INTEGER_DIGITS = 30
MAX_DECIMAL_PLACES = 18


def _bounded(value: Decimal, most_digits: int | None = None) -> Decimal:
    """`most_digits`: a bound on the number's digits (its text's length), which spares reading its
    exponent (as_tuple builds a tuple of every digit) when even that many leave few enough places."""
    if value != 0 and value.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(f"must have at most {MAX_INTEGER_DIGITS} digits before the decimal point")
    if most_digits is not None and value.adjusted() - most_digits + 1 >= -MAX_DECIMAL_PLACES:
        return value  # exponent = adjusted - digits + 1 >= this, so within the places allowed
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


def _not_negative_from_wire(value: Any) -> Decimal:
    amount = _plain_amount(value)
    if amount is not None and amount >= 0:
        return amount
    return _not_negative(_decimal_from_wire(value))  # refused, or unusual: the full checks name why


def _positive_from_wire(value: Any) -> Decimal:
    amount = _plain_amount(value)
    if amount is not None and amount > 0:
        return amount
    return _positive(_decimal_from_wire(value))


def _plain_amount(value: Any) -> Decimal | None:
    """The amount of a decimal string that passes every check of `_decimal_from_wire`, in one frame;
    None for anything else, which then takes the full checks and their messages. Every event carries
    several amounts (eight in a LoanBooked), and the full path costs five Python frames per amount.
    Decimal() strips the same whitespace as str.strip(), so both read the same number."""
    if type(value) is not str:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    adjusted = amount.adjusted()
    # The bounds of `_bounded`: digits before the point, and places (exponent >= adjusted - len + 1).
    if adjusted >= MAX_INTEGER_DIGITS or adjusted - len(value) + 1 < -MAX_DECIMAL_PLACES:
        return None
    return amount


def _checked_decimal(validate) -> Any:
    """Decimal_ with a check, as ONE plain validator: a before validator, pydantic's own decimal
    validation of what it returned and an after validator cost a fifth more per amount, and every
    event carries several (same inputs accepted and refused, same messages)."""
    return Annotated[
        Decimal,
        PlainValidator(validate),
        PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
        WithJsonSchema(_DECIMAL_SCHEMA),
    ]


Money = _checked_decimal(_not_negative_from_wire)
PositiveMoney = _checked_decimal(_positive_from_wire)
Rate = _checked_decimal(_not_negative_from_wire)
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Timestamp = AwareDatetime
Day = date
Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]

__all__ = ["Money", "PositiveMoney", "Rate", "Currency", "Timestamp", "Day", "Id", "datetime"]
