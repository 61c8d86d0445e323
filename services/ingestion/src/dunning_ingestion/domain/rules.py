"""The checks an inbound event must pass before it touches a ledger; each failure names its field."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dunning_platform.errors import InvalidInput


class FieldInvalid(InvalidInput):
    """An inbound field the ledger refuses. Its text starts with the field, because a consumer puts
    only `str(error)` into the DLQ's headers."""

    def __str__(self) -> str:
        return f"{self.field}: {self.detail}" if self.field else self.detail


def zone(name: str, *, field: str = "data.borrower.timezone") -> ZoneInfo:
    found = _ZONES.get(name)
    return found if found is not None else _load_zone(name, field)


# The zones met so far: every event reads a moment in its borrower's zone, some twice or three times.
# Only valid names are kept, so it holds at most the IANA database.
_ZONES: dict[str, ZoneInfo] = {}


def _load_zone(name: str, field: str) -> ZoneInfo:
    try:
        found = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldInvalid(f"{name!r} is not an IANA time zone", field=field) from None
    _ZONES[name] = found
    return found


def local_date(moment: datetime, timezone: str) -> date:
    """Due dates are the borrower's calendar days, so every moment is read in the borrower's zone."""
    return moment.astimezone(_ZONES.get(timezone) or zone(timezone)).date()


def check_currency(loan_currency: str, currency: str, *, field: str = "data.currency") -> None:
    if currency != loan_currency:
        raise FieldInvalid(f"currency {currency} does not match the loan's currency {loan_currency}", field=field)


_QUANTA = {digits: Decimal(1).scaleb(-digits) for digits in range(5)}


def check_precision(amount: Decimal, digits: int, currency: str, *, field: str) -> None:
    if not fits_precision(amount, digits):
        raise FieldInvalid(f"{amount} has more decimal places than {currency} allows ({digits})", field=field)


def fits_precision(amount: Decimal, digits: int) -> bool:
    # Checked on every amount of every event: quantize costs a fraction of as_tuple, which builds a
    # tuple of every digit. An amount too long to quantize within the context's precision says it by its
    # exponent.
    try:
        return amount.quantize(_QUANTA[digits]) == amount
    except InvalidOperation:
        return amount.as_tuple().exponent >= -digits


def check_positive(amount: Decimal, *, field: str) -> None:
    if amount <= 0:
        raise FieldInvalid(f"{amount} must be greater than zero", field=field)


def check_installment_exists(seqs: set[int], seq: int) -> None:
    if seq not in seqs:
        raise FieldInvalid(f"the loan has no installment {seq}", field="data.seq")


def check_schedule_has_amounts(total_due: Decimal) -> None:
    if total_due <= 0:
        raise FieldInvalid("the schedule owes nothing: every installment is zero", field="data.installments")
