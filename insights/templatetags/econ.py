"""Economic-calendar figures: `{{ event.actual|econ_value:event.unit }}` prints a release value
as the agency does (no padding zeros, thousands separators, a real minus sign, its unit), and
`{{ event.surprise|econ_surprise:event.unit }}` the same with a sign."""

from __future__ import annotations

from decimal import Decimal

from django import template

from qunex.templatetags.numbers import MINUS

register = template.Library()
DASH = "—"


def _plain(number: Decimal) -> str:
    text = f"{abs(number).normalize():,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _with_unit(text: str, unit: str) -> str:
    unit = (unit or "").strip()
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


@register.filter
def econ_value(value, unit: str = "") -> str:
    if value is None:
        return DASH
    number = Decimal(value)
    text = _plain(number)
    return _with_unit(MINUS + text if number < 0 and text != "0" else text, unit)


@register.filter
def econ_surprise(value, unit: str = "") -> str:
    if value is None:
        return ""
    number = Decimal(value)
    text = _plain(number)
    if text == "0":
        return _with_unit("0", unit)
    return _with_unit(("+" if number > 0 else MINUS) + text, unit)
