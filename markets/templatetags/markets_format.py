"""Number formatting for market pages: prices, signed changes, percents, compact sizes."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()

DASH = "—"
MINUS = "\u2212"  # a real minus sign (U+2212), so columns of numbers line up


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


@register.filter
def price(value) -> str:
    """1234.5 -> "1,234.50" (4 decimals under 1)."""
    number = _decimal(value)
    if number is None:
        return DASH
    places = 4 if abs(number) < 1 else 2
    return f"{number:,.{places}f}"


@register.filter
def signed(value) -> str:
    """1.2 -> "+1.20", -1.2 -> "-1.20" (with a U+2212 minus sign)."""
    number = _decimal(value)
    if number is None:
        return DASH
    text = f"{abs(number):,.2f}"
    return f"+{text}" if number > 0 else f"{MINUS}{text}" if number < 0 else text


@register.filter
def pct(value) -> str:
    """A percent (not a fraction): 1.234 -> "+1.23%"."""
    text = signed(value)
    return text if text == DASH else f"{text}%"


@register.filter
def updown(value) -> str:
    """CSS class for a signed number: "up", "down" or ""."""
    number = _decimal(value)
    if number is None or number == 0:
        return ""
    return "up" if number > 0 else "down"


@register.filter
def compact(value) -> str:
    """3_010_000_000_000 -> "3.01T", 45_600_000 -> "45.6M", 950 -> "950"."""
    number = _decimal(value)
    if number is None:
        return DASH
    for size, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if abs(number) >= size:
            scaled = number / size
            return f"{scaled:.2f}{suffix}" if abs(scaled) < 100 else f"{scaled:.1f}{suffix}"
    return f"{number:,.0f}"
