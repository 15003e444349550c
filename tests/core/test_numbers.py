from __future__ import annotations

import json
import math
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

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
    assert n.frac_pct(Decimal("0.123")) == "+12.30%"
    assert n.money(Decimal("-1234.5")) == f"{M}$1,234.50"
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
    names = ("price", "money", "signed", "signed_money", "pct", "points", "qty", "compact")
    for name in (*names, "compact_money", "frac_pct"):
        text = getattr(n, name)(value)
        assert "-" not in text, (name, text)
        digits = text.strip(f"{M}+$%KMBT").replace(",", "").replace(".", "")
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


# --- the one rule, pinned case by case (the JS formatter must agree: see below) -------------

NAN, INF = float("nan"), float("inf")
D = "\u2014"

# (filter, value, argument or None, expected). Values are what pages pass: Decimals from the
# database, floats from JSON results, None for a missing figure.
CASES = [
    # zero and negative zero never carry a sign
    ("signed", 0, None, "0.00"),
    ("signed", -0.0, None, "0.00"),
    ("signed", Decimal("-0"), None, "0.00"),
    ("signed", -0.004, None, "0.00"),
    ("pct", -0.0, None, "0.00%"),
    ("money", -0.0, None, "$0.00"),
    ("signed_money", -0.001, None, "$0.00"),
    ("number", -0.00001, 4, "0.0000"),
    ("price", -0.0, None, "0.0000"),
    # signs: "+" on gains, a true minus on losses, the currency after the sign
    ("signed", 1.2, None, "+1.20"),
    ("signed", -1.2, None, f"{M}1.20"),
    ("signed_money", 12, None, "+$12.00"),
    ("signed_money", -12, None, f"{M}$12.00"),
    ("money", Decimal("-1234.5"), None, f"{M}$1,234.50"),
    ("pct", 1, None, "+1.00%"),
    ("pct", -135.0123, None, f"{M}135.01%"),
    ("pct", 12.34, 1, "+12.3%"),
    ("plain_pct", 54.321, 1, "54.3%"),
    ("points", 0.0123, None, "+1.23"),
    ("points", -0.0106, None, f"{M}1.06"),
    ("number", -0.012345, 4, f"{M}0.0123"),
    ("number", 0.3333333, 4, "0.3333"),
    # rounding: half away from zero on the figure as written
    ("signed", 1.005, None, "+1.01"),
    ("signed", -1.005, None, f"{M}1.01"),
    ("signed", 2.675, None, "+2.68"),
    ("money", 0.125, None, "$0.13"),
    ("pct", 0.005, None, "+0.01%"),
    ("pct", 0.0049, None, "0.00%"),
    ("signed", 999.995, None, "+1,000.00"),
    ("number", 0.00005, 4, "0.0001"),
    # prices: 2 decimals, 4 under $1 or when written to a tenth of a cent
    ("price", 1234.5, None, "1,234.50"),
    ("price", 0.5, None, "0.5000"),
    ("price", 12.3456, None, "12.3456"),
    ("price", 12.345678, None, "12.35"),
    ("price", -3, None, f"{M}3.00"),
    # one precision per kind: a return is "+1.00%" whether the page has a fraction or a percent
    ("frac_pct", 0.01, None, "+1.00%"),
    ("frac_pct", -0.123456, None, f"{M}12.35%"),
    ("frac_pct", 0.00004, None, "0.00%"),
    # money carries its currency, compact sizes and whole-dollar axis labels too
    ("money", 12345.678, 0, "$12,346"),
    ("money", -0.4, 0, "$0"),
    ("compact_money", 1_234_567, None, "$1.23M"),
    ("compact_money", 3_010_000_000_000, None, "$3.01T"),
    ("compact_money", 999_999, None, "$1.00M"),
    ("compact_money", 99_995, None, "$100.0K"),
    ("compact_money", 950, None, "$950"),
    ("compact_money", -2500, None, f"{M}$2.50K"),
    ("compact_money", -0.4, None, "$0"),
    ("compact_money", None, None, D),
    ("compact_money", NAN, None, D),
    ("compact", 45_600_000, None, "45.60M"),
    ("compact", -2500, None, f"{M}2.50K"),
    ("compact", 0, None, "0"),
    # huge values keep every digit and their separators
    ("money", 1e15, None, "$1,000,000,000,000,000.00"),
    ("signed", -123456789012.345, None, f"{M}123,456,789,012.35"),
    ("pct", 1e9, None, "+1,000,000,000.00%"),
    # nothing to show: an em dash, never "nan", "inf" or a 500
    ("signed", None, None, D),
    ("money", NAN, None, D),
    ("pct", INF, None, D),
    ("signed_money", -INF, None, D),
    ("price", "garbage", None, D),
    ("points", "", None, D),
    ("number", True, 2, D),
]


@pytest.mark.parametrize(("name", "value", "arg", "expected"), CASES)
def test_the_formatting_rule(name, value, arg, expected):
    fn = getattr(n, name)
    assert (fn(value) if arg is None else fn(value, arg)) == expected


def test_huge_decimals_beyond_the_default_precision_do_not_raise():
    assert n.money(Decimal("1e40")) == "$10" + ",000" * 13 + ".00"
    assert n.price(Decimal("-1e30")).startswith(M + "1,000,")
    assert n.compact(Decimal("1e40")).endswith("T")


def test_model_card_and_backtest_figures_come_from_the_same_rule():
    """backtests/display.py and the AI pages format through these functions (no hyphens)."""
    from backtests import display
    from insights.templatetags import ai_scores

    assert display.format_stat("Return [%]", 135.0123) == "+135.01%"
    assert display.format_stat("Return [%]", -1.5) == f"{M}1.50%"
    assert display.format_stat("Max. Drawdown [%]", -12.345) == f"{M}12.35%"
    assert display.format_stat("Equity Final [$]", 10512.2) == "$10,512.20"
    assert display.format_stat("Sharpe Ratio", -0.314) == f"{M}0.31"
    assert ai_scores.signed_points(-0.0106) == f"{M}1.06"
    assert ai_scores.pct1(-0.0123) == f"{M}1.23%"  # a return: 2 decimals, as in backtests
    assert ai_scores.pct1(None) == D


# --- the JS formatter (static/js/format.js) gives the same text for the same case ------------

JS_NAMES = {
    "price": "price",
    "number": "number",
    "money": "money",
    "signed": "signed",
    "signed_money": "signedMoney",
    "pct": "pct",
    "plain_pct": "plainPct",
    "points": "points",
    "compact": "compact",
    "compact_money": "compactMoney",
}
FORMAT_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "format.js"


def _js_value(value):
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float) and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, Decimal):
        return str(value)  # Number("-0") is -0, Number("1234.5") is 1234.5
    return value


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_js_formatter_agrees_with_the_filters():
    cases = [
        (JS_NAMES[name], _js_value(value), arg, expected)
        for name, value, arg, expected in CASES
        if name in JS_NAMES
    ]
    script = (
        f"const f = require({json.dumps(str(FORMAT_JS))});\n"
        "const cases = JSON.parse(process.argv[1]);\n"
        "const special = {NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity};\n"
        "const out = cases.map(([name, value, arg]) => {\n"
        "  const v = typeof value === 'string' && value in special ? special[value] : value;\n"
        "  if (['pct', 'plainPct', 'points', 'number', 'money'].includes(name))\n"
        "    return f[name](v, arg === null ? undefined : arg);\n"
        "  if (name === 'signed') return f.signed(v, '', arg === null ? undefined : arg);\n"
        "  return f[name](v);\n"
        "});\n"
        "process.stdout.write(JSON.stringify(out));\n"
    )
    done = subprocess.run(
        ["node", "-e", script, json.dumps([c[:3] for c in cases])],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    got = json.loads(done.stdout)
    mismatches = [(c[0], c[1], c[2], c[3], g) for c, g in zip(cases, got, strict=True) if g != c[3]]
    assert not mismatches


def test_pct_to_is_the_move_needed_to_reach_a_target():
    assert n.pct_to(Decimal("131"), Decimal("150")) == "+14.50%"
    assert n.pct_to(131, 120) == f"{M}8.40%"
    assert n.pct_to(100, 100) == "0.00%"
    assert n.pct_to(0, 10) == D and n.pct_to(None, 10) == D and n.pct_to(10, NAN) == D


def test_true_minus_fixes_numbers_in_prose_and_leaves_words_alone():
    text = (
        "1-month return of -3.2% lowered the forecast by 0.10 points over 20-session spans (-0.5)."
    )
    assert n.true_minus(text) == (
        f"1-month return of {M}3.2% lowered the forecast by 0.10 points over 20-session spans ({M}0.5)."
    )
    assert (
        n.true_minus("Money-weighted (-1.5%) vs 2024-01-02")
        == f"Money-weighted ({M}1.5%) vs 2024-01-02"
    )
    assert n.true_minus(None) == ""
    assert n.true_minus("Insider net buying of -$1,000") == f"Insider net buying of {M}$1,000"


def test_absurd_exponents_from_hostile_input_stay_fast_and_short():
    """A CSV preview may pass "1e999999999" straight to a filter: no billion-digit string."""
    for name in ("price", "money", "signed", "signed_money", "pct", "points", "qty", "compact"):
        assert getattr(n, name)("1e999999999") == D, name
        assert len(getattr(n, name)("-1e-999999999")) < 12, name
    assert n.money("1e-999999999") == "$0.00" and n.qty("1e-999999999") == "0"
