"""Number formatting for every page: prices, money, quantities, signed changes, percents.

The one rule of the site (static/js/format.js applies the same rule to figures drawn by
scripts, and tests/core/test_numbers.py pins both):

1. A missing value (None, "", NaN, infinity, garbage) renders as an em dash.
2. Rounding is half away from zero on the decimal value as written (1.005 -> "1.01"), so a
   figure reads as a hand computation would.
3. Negative numbers use a real minus sign (U+2212) so columns of figures line up; a figure
   that rounds to zero ("0.00", also from -0.0 or -0.001) has no sign at all.
4. Changes, P&L and returns are signed: "+1.20", "-1.20" (U+2212), "+1.23%" with no space.
5. Money carries its currency wherever it is shown: "$1,234.50", "+$12.00", "-$12.00"
   (U+2212), compact sizes too ("$1.20M"); share counts and volumes carry none.
6. The same kind of figure has the same decimals: 2 for money, changes and percents, so a
   return reads "+1.00%" on every page (portfolio periods, backtests, the track record).

`{% load numbers %}`.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from django import template

register = template.Library()

DASH = "\u2014"
MINUS = "\u2212"
CURRENCY = "$"  # every figure is in US dollars (portfolios, prices and backtests alike)
_MAX_EXPONENT = 60


def _number(value) -> Decimal | None:
    """A finite Decimal, or None for a value with nothing to show."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not number.is_finite() or number.adjusted() > _MAX_EXPONENT:
        return None  # no figure on a page is 1e61; "1e999999999" must not print a billion digits
    return number if number.adjusted() >= -_MAX_EXPONENT else Decimal(0)


def _fixed(number: Decimal, places: int) -> str:
    """|number| rounded half away from zero to `places` decimals, with thousands separators."""
    places = max(0, min(int(places), 10))
    with localcontext() as context:  # room for every digit of a huge value (1e30 quantized)
        context.prec = max(28, number.adjusted() + places + 2)
        rounded = abs(number).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{rounded:,.{places}f}"


def _is_zero(text: str) -> bool:
    return not any(c in "123456789" for c in text)


def _minus(number: Decimal, text: str) -> str:
    return MINUS + text if number < 0 and not _is_zero(text) else text


def _signed_text(number: Decimal, text: str) -> str:
    """Prefix + or a minus sign unless the text rounds to zero."""
    if _is_zero(text):
        return text
    return ("+" if number > 0 else MINUS) + text


@register.filter
def price(value) -> str:
    """2 decimals; 4 under $1 or when the price has sub-cent digits: 1234.5 -> "1,234.50"."""
    number = _number(value)
    if number is None:
        return DASH
    exponent = number.normalize().as_tuple().exponent
    sub_cent = isinstance(exponent, int) and -4 <= exponent <= -3
    places = 4 if abs(number) < 1 or sub_cent else 2
    return _minus(number, _fixed(number, places))


@register.filter
def number(value, places: int = 2) -> str:
    """A plain figure with fixed decimals and a real minus: -0.01234 -> "-0.0123" at 4."""
    value = _number(value)
    if value is None:
        return DASH
    return _minus(value, _fixed(value, places))


@register.filter
def money(value, places: int = 2) -> str:
    """An amount of money with its currency: 1234.5 -> "$1,234.50", -5 -> "-$5.00" (U+2212)."""
    number = _number(value)
    if number is None:
        return DASH
    text = _fixed(number, places)
    return (MINUS if number < 0 and not _is_zero(text) else "") + CURRENCY + text


@register.filter
def signed(value, places: int = 2) -> str:
    """1.2 -> "+1.20", -1.2 -> "-1.20" (with U+2212 as the minus)."""
    number = _number(value)
    if number is None:
        return DASH
    return _signed_text(number, _fixed(number, places))


@register.filter
def signed_money(value) -> str:
    """A gain, loss or cash effect: 12 -> "+$12.00", -12 -> "-$12.00" (U+2212), 0 -> "$0.00"."""
    number = _number(value)
    if number is None:
        return DASH
    text = _fixed(number, 2)
    if _is_zero(text):
        return CURRENCY + text
    return ("+" if number > 0 else MINUS) + CURRENCY + text


@register.filter
def pct(value, places: int = 2) -> str:
    """A percent (12.3 means 12.3 %), signed: 1.234 -> "+1.23%"."""
    number = _number(value)
    if number is None:
        return DASH
    return _signed_text(number, _fixed(number, places) + "%")


@register.filter
def plain_pct(value, places: int = 2) -> str:
    """A percent that is a level, not a change (a weight, a win rate): 54.3 -> "54.30%"."""
    number = _number(value)
    if number is None:
        return DASH
    return _minus(number, _fixed(number, places) + "%")


@register.filter
def frac_pct(value, places: int = 2) -> str:
    """A fraction (0.123) as a signed percent: "+12.30%"."""
    number = _number(value)
    if number is None:
        return DASH
    return pct(number * 100, places)


@register.filter
def points(value, places: int = 2) -> str:
    """A fraction as signed percentage points, no % sign: 0.0123 -> "+1.23"."""
    number = _number(value)
    if number is None:
        return DASH
    return signed(number * 100, places)


@register.filter
def pct_to(value, target) -> str:
    """How far `value` must move to reach `target`, as a signed percent of `value`:
    price 100, target 104.2 -> "+4.20%"; a dash without a positive price."""
    start, end = _number(value), _number(target)
    if start is None or end is None or start <= 0:
        return DASH
    return pct((end - start) / start * 100)


_HYPHEN_BEFORE_DIGIT = re.compile(r"(?<![\w.])-(?=\$?\d)")


@register.filter
def true_minus(text) -> str:
    """Prose with figures written elsewhere ("-3.2%" in a stored explanation): a hyphen that
    starts a number becomes the real minus sign; "20-session" and "1-week" keep theirs."""
    if text is None:
        return ""
    return _HYPHEN_BEFORE_DIGIT.sub(MINUS, str(text))


@register.filter
def qty(value) -> str:
    """Share quantities without trailing zeros: 1500.000000 -> "1,500", -0.5 -> "\\u22120.5"."""
    number = _number(value)
    if number is None or not number.is_finite():
        return DASH
    text = format(abs(number).normalize(), "f")
    whole, _, frac = text.partition(".")
    text = f"{int(whole):,}" + ("." + frac if frac else "")
    return MINUS + text if number < 0 else text


_SIZES = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"), (1, ""))


def _mantissa(scaled: Decimal, suffix: str) -> str:
    if not suffix:
        return _fixed(scaled, 0)
    text = _fixed(scaled, 2)
    return text if Decimal(text.replace(",", "")) < 100 else _fixed(scaled, 1)


@register.filter
def compact(value) -> str:
    """3_010_000_000_000 -> "3.01T", 45_600_000 -> "45.60M", 950 -> "950", -2500 -> "\\u22122.50K".

    The unit is chosen after rounding, so 999_999 is "1.00M", never "1000.0K".
    """
    number = _number(value)
    if number is None or not number.is_finite():
        return DASH
    size = abs(number)
    index = next(i for i, (limit, _) in enumerate(_SIZES) if size >= limit or limit == 1)
    text = _mantissa(size / _SIZES[index][0], _SIZES[index][1]) + _SIZES[index][1]
    if index > 0 and Decimal(text[: -len(_SIZES[index][1]) or None].replace(",", "")) >= 1000:
        limit, suffix = _SIZES[index - 1]
        text = _mantissa(size / limit, suffix) + suffix
    return MINUS + text if number < 0 and text.strip("0.,KMBT") else text


@register.filter
def compact_money(value) -> str:
    """A compact amount of money (market cap, an insider's trade): 1_234_567 -> "$1.23M",
    -2500 -> "-$2.50K" (U+2212), 950 -> "$950"."""
    text = compact(value)
    if text == DASH:
        return DASH
    return MINUS + CURRENCY + text[1:] if text.startswith(MINUS) else CURRENCY + text


@register.filter
def updown(value) -> str:
    """CSS class for a signed number: "up", "down" or ""."""
    number = _number(value)
    if number is None or number == 0:
        return ""
    return "up" if number > 0 else "down"


@register.filter
def get_item(mapping, key):
    return mapping.get(key, key) if hasattr(mapping, "get") else key
