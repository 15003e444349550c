"""`{% ai_score_badge rows symbol "info.symbol" %}`: a ticker's latest AI score as a badge, for
pages of other apps (watchlist, stocks list) that must not import insights.

The first badge of a render looks up every symbol in `rows` (read through the dotted `path`,
or the rows themselves when they are strings) in ONE query and keeps the result in the
render context; every later badge of that render reads from it. So a page of 1 or 50 rows
costs one query.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html

from insights.scores.selectors import scores_by_symbol
from qunex.templatetags import numbers

register = template.Library()


def _resolve(row: Any, path: str) -> str | None:
    if isinstance(row, str):
        return row
    value = row
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return str(value) if value else None


def scores_for_rows(rows: Any, path: str = "symbol") -> dict[str, Any]:
    symbols = [s for s in (_resolve(r, path) for r in rows or []) if s]
    return scores_by_symbol(symbols)


@register.simple_tag(takes_context=True)
def ai_score_badge(context: template.Context, rows: Any, symbol: str, path: str = "symbol"):
    key = ("ai_scores", id(rows), path)
    cache = context.render_context
    if key not in cache:
        cache[key] = scores_for_rows(rows, path)
    score = cache[key].get(str(symbol).upper())
    if score is None:
        return format_html('<span class="muted" title="{}">—</span>', "Not scored yet")
    css = "badge up" if score.score >= 7 else "badge down" if score.score <= 4 else "badge"
    demo = " (demo data)" if score.is_demo else ""
    return format_html(
        '<a class="{}" href="{}" title="AI score {}/10 on {}: {}{}">{}</a>',
        css,
        reverse("insights:ai_scores"),
        score.score,
        score.date.isoformat(),
        score.label,
        demo,
        score.score,
    )


@register.filter
def signed_points(value: float | None) -> str:
    """A fraction as signed percentage points, e.g. 0.0123 -> "+1.23" (the site's rule)."""
    return numbers.points(value)


@register.filter
def pct1(value: float | None) -> str:
    """A fraction as a signed percent at the site's 2 decimals for returns: -0.0123 ->
    "-1.23%" (U+2212). Kept under its old name for the track-record template; new templates
    use `numbers.frac_pct`."""
    return numbers.frac_pct(value)
