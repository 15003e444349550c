from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qunex.templatetags import numbers as n

M = "\u2212"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234.5"), "1,234.50"),
        (Decimal("0.5"), "0.5000"),
        (Decimal("12.3456"), "12.3456"),
        (Decimal("-3"), f"{M}3.00"),
        (None, "—"),
        ("garbage", "—"),
    ],
)
def test_price(value, expected):
    assert n.price(value) == expected


def test_signed_and_percent_figures():
    assert n.signed(Decimal("1.2")) == "+1.20"
    assert n.signed(Decimal("-1.2")) == f"{M}1.20"
    assert n.signed(Decimal("0.001")) == "0.00"
    assert n.pct(Decimal("1.234")) == "+1.23%"
    assert n.pct(Decimal("-12.3"), 1) == f"{M}12.3%"
    assert n.frac_pct(Decimal("0.123")) == "+12.3%"
    assert n.money(Decimal("-1234.5")) == f"{M}1,234.50"
    assert n.updown(Decimal("-1")) == "down" and n.updown(0) == "" and n.updown(2) == "up"


def test_quantities_and_compact_sizes():
    assert n.qty(Decimal("1500.000000")) == "1,500"
    assert n.qty(Decimal("0.50")) == "0.5"
    assert n.compact(3_010_000_000_000) == "3.01T"
    assert n.compact(45_600_000) == "45.60M"
    assert n.compact(950) == "950"


# --- properties (Hypothesis) -----------------------------------------------------------------


decimals = st.decimals(
    min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False, places=6
)
UNITS = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


def test_fixed_cases_from_the_issue():
    assert n.qty(Decimal("-0.5")) == f"{M}0.5"
    assert n.qty(Decimal("-1500.25")) == f"{M}1,500.25"
    assert n.compact(999_999) == "1.00M"
    assert n.compact(99_995) == "100.0K"
    assert n.compact(-2500) == f"{M}2.50K"


@given(decimals)
def test_every_filter_uses_one_minus_sign_and_keeps_the_sign(value):
    for name in ("price", "money", "signed", "pct", "qty", "compact"):
        text = getattr(n, name)(value)
        assert "-" not in text, (name, text)
        digits = text.strip(f"{M}+%KMBT").replace(",", "").replace(".", "")
        if value < 0 and digits.strip("0"):
            assert text.startswith(M), (name, value, text)
        if value >= 0:
            assert not text.startswith(M), (name, value, text)


@given(decimals)
def test_qty_round_trips_exactly(value):
    text = n.qty(value).replace(M, "-").replace(",", "")
    assert Decimal(text) == value


@given(decimals)
def test_compact_is_close_and_never_shows_a_mantissa_of_1000(value):
    text = n.compact(value).replace(M, "-")
    suffix = text[-1] if text[-1] in "KMBT" else ""
    mantissa = Decimal((text[:-1] if suffix else text).replace(",", ""))
    if suffix and suffix != "T":
        assert abs(mantissa) < 1000, text
    if suffix:
        assert abs(mantissa) >= 1, text
    # rounded to 3+ significant digits: within 0.5% of the value (or an absolute half unit)
    shown = mantissa * UNITS[suffix]
    assert abs(shown - value) <= max(abs(value) * Decimal("0.005"), Decimal("0.5")), text
