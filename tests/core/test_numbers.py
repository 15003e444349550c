from __future__ import annotations

from decimal import Decimal

import pytest

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
