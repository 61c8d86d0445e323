"""The money types take a plain decimal string in one step and everything else through the full checks:
both must accept and refuse exactly the same inputs, with the same value and the same message."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dunning_contracts.types import (
    _decimal_from_wire,
    _not_negative,
    _not_negative_from_wire,
    _positive,
    _positive_from_wire,
)

TRICKY = [
    "1000.00", "0", "-0", "0.00", "-1.00", "7", "+5", ".5", "1.", " 12.50 ", "\t7\n", "1_000", "١٢٣",
    "1e5", "1E-18", "1e-19", "1e29", "1e30", "0E+40", "0E-50", "-0E-50", "9" * 30, "9" * 31, "1" * 29 + ".5",
    "0.000000000000000001", "0.0000000000000000001", "0." + "0" * 17 + "1", "0." + "0" * 18 + "1",
    "1" * 30 + "." + "1" * 18, "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "abc", "", "  ", "1 2",
    "1e999999999", "0E-999999", "12.5abc",
]


def _outcome(validate, value):
    try:
        return ("accepted", validate(value), str(validate(value)))
    except ValueError as error:
        return ("refused", str(error))


def _full_not_negative(value):
    return _not_negative(_decimal_from_wire(value))


def _full_positive(value):
    return _positive(_decimal_from_wire(value))


@pytest.mark.parametrize("value", TRICKY)
def test_a_plain_string_and_the_full_checks_agree_on_every_tricky_amount(value):
    assert _outcome(_not_negative_from_wire, value) == _outcome(_full_not_negative, value)
    assert _outcome(_positive_from_wire, value) == _outcome(_full_positive, value)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789.-+eE _\tNaIfinty", max_size=40))
def test_any_amount_like_string_gets_the_full_checks_verdict(value):
    assert _outcome(_not_negative_from_wire, value) == _outcome(_full_not_negative, value)
    assert _outcome(_positive_from_wire, value) == _outcome(_full_positive, value)


@settings(max_examples=500, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=None).map(str))
def test_any_decimal_written_as_text_gets_the_full_checks_verdict(value):
    assert _outcome(_not_negative_from_wire, value) == _outcome(_full_not_negative, value)
    assert _outcome(_positive_from_wire, value) == _outcome(_full_positive, value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1.00", "must not be negative"),
        ("1.5e40", "must have at most 30 digits before the decimal point"),
        ("0.0000000000000000001", "must have at most 18 decimal places"),
        ("NaN", "must be a finite decimal number"),
        ("abc", "'abc' is not a decimal number"),
        (1.5, 'must be a decimal string such as "1234.50", not a float'),
    ],
)
def test_a_refused_amount_says_why(value, message):
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.").replace("(", r"\(") + "$"):
        _not_negative_from_wire(value)


def test_a_zero_amount_is_money_but_not_positive_money():
    assert _not_negative_from_wire("0.00") == Decimal("0.00")
    with pytest.raises(ValueError, match="^must be greater than zero$"):
        _positive_from_wire("0.00")
