"""Number formatting for money, quantities and percentages in portfolio pages."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()
DASH = "—"
MINUS = "\u2212"


def _number(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except ArithmeticError:
        return None


@register.filter
def money(value) -> str:
    """1234.5 -> '1,234.50'; negative with a real minus sign."""
    number = _number(value)
    if number is None:
        return DASH
    text = f"{abs(number):,.2f}"
    return MINUS + text if number < 0 and text.strip("0.,") else text


@register.filter
def signed_money(value) -> str:
    number = _number(value)
    if number is None:
        return DASH
    text = f"{abs(number):,.2f}"
    if not text.strip("0.,"):
        return text
    return ("+" if number > 0 else MINUS) + text


@register.filter
def price(value) -> str:
    """Prices keep up to 4 decimals when they have them, at least 2."""
    number = _number(value)
    if number is None:
        return DASH
    places = (
        4
        if number == number.quantize(Decimal("0.0001"))
        and number != number.quantize(Decimal("0.01"))
        else 2
    )
    return f"{number:,.{places}f}"


@register.filter
def qty(value) -> str:
    number = _number(value)
    if number is None:
        return DASH
    text = format(number.normalize(), "f")
    whole, _, frac = text.partition(".")
    whole = f"{int(whole):,}" if whole.lstrip("-").isdigit() else whole
    return whole + ("." + frac if frac else "")


@register.filter
def pct(value, places: int = 2) -> str:
    """A percent number (12.3 means 12.3%) with its sign."""
    number = _number(value)
    if number is None:
        return DASH
    text = f"{abs(number):,.{int(places)}f}%"
    if not text.strip("0.,%"):
        return text
    return ("+" if number > 0 else MINUS) + text


@register.filter
def frac_pct(value, places: int = 1) -> str:
    """A fraction (0.123) as a signed percent ('+12.3%')."""
    number = _number(value)
    if number is None:
        return DASH
    return pct(number * 100, places)


@register.filter
def updown(value) -> str:
    number = _number(value)
    if number is None or number == 0:
        return ""
    return "up" if number > 0 else "down"


@register.filter
def get_item(mapping, key):
    return mapping.get(key, key) if hasattr(mapping, "get") else key
