"""Amounts in a currency's minor unit. Money is Decimal everywhere; rounding happens only here."""

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")

# ISO 4217 currencies without a minor unit or with three decimals; every other code has two.
_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "VND": 0, "IDR": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}


def minor_digits(currency: str) -> int:
    return _MINOR_DIGITS.get(currency, 2)


_QUANTA = {digits: Decimal(1).scaleb(-digits) for digits in range(5)}


def round_money(amount: Decimal, digits: int) -> Decimal:
    # Half up, as PostgreSQL's round(numeric) does for positive amounts: the sweep rounds the same way.
    quantum = _QUANTA.get(digits) or Decimal(1).scaleb(-digits)
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)
