"""Number formatting for every page: prices, money, quantities, signed changes, percents.

Negative numbers use a real minus sign (U+2212) so columns of figures line up; a missing
value renders as an em dash. `{% load numbers %}`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()

DASH = "—"
MINUS = "\u2212"
_CENT = Decimal("0.01")
_TEN_THOUSANDTH = Decimal("0.0001")


def _number(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _signed_text(number: Decimal, text: str) -> str:
    """Prefix + or a minus sign unless the text rounds to zero."""
    if not text.strip("0.,%"):
        return text
    return ("+" if number > 0 else MINUS) + text


@register.filter
def price(value) -> str:
    """2 decimals; 4 under $1 or when the price has sub-cent digits: 1234.5 -> "1,234.50"."""
    number = _number(value)
    if number is None:
        return DASH
    sub_cent = number != number.quantize(_CENT) and number == number.quantize(_TEN_THOUSANDTH)
    places = 4 if abs(number) < 1 or sub_cent else 2
    text = f"{abs(number):,.{places}f}"
    return MINUS + text if number < 0 else text


@register.filter
def money(value) -> str:
    """1234.5 -> "1,234.50"; a negative amount with a real minus sign."""
    number = _number(value)
    if number is None:
        return DASH
    text = f"{abs(number):,.2f}"
    return MINUS + text if number < 0 and text.strip("0.,") else text


@register.filter
def signed(value) -> str:
    """1.2 -> "+1.20", -1.2 -> "-1.20" (with U+2212 as the minus)."""
    number = _number(value)
    if number is None:
        return DASH
    return _signed_text(number, f"{abs(number):,.2f}")


# Money changes read the same as any signed figure.
register.filter("signed_money", signed)


@register.filter
def pct(value, places: int = 2) -> str:
    """A percent (12.3 means 12.3 %), signed: 1.234 -> "+1.23%"."""
    number = _number(value)
    if number is None:
        return DASH
    return _signed_text(number, f"{abs(number):,.{int(places)}f}%")


@register.filter
def frac_pct(value, places: int = 1) -> str:
    """A fraction (0.123) as a signed percent: "+12.3%"."""
    number = _number(value)
    if number is None:
        return DASH
    return pct(number * 100, places)


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
        return f"{scaled:,.0f}"
    text = f"{scaled:.2f}"
    return text if Decimal(text) < 100 else f"{scaled:.1f}"


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
def updown(value) -> str:
    """CSS class for a signed number: "up", "down" or ""."""
    number = _number(value)
    if number is None or number == 0:
        return ""
    return "up" if number > 0 else "down"


@register.filter
def get_item(mapping, key):
    return mapping.get(key, key) if hasattr(mapping, "get") else key
