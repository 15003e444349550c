"""AI-score pages: the ranked scores, a model card per version, the track record, and the
panels other pages embed (stock card, dashboard). Thin: parse, select, render."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from insights.scores import selectors
from insights.scores.explain import UNIT
from insights.scores.features import DESCRIPTIONS
from insights.scores.models import ModelVersion
from insights.scores.queries import ORDER_CHOICES, ScoresQuery
from insights.scores.services import NOT_GOOD_ENOUGH
from qunex.params import query_form
from qunex.templatetags import numbers


@require_GET
@query_form(ScoresQuery, announce=False)  # the page shows `error` itself
def scores_view(request: HttpRequest, query: dict) -> HttpResponse:
    """Ranked latest scores. Queries (constant in the number of tickers): the scores with
    ticker and model joined, the sectors, the promoted model, and for a signed-in user the
    watchlist symbols and the holdings' transactions (+ session/user lookups)."""
    sector, min_score, order = query["sector"], query["min_score"], query["order"]
    error = " ".join(query.problems.values())
    model = selectors.promoted_model()
    latest_version = selectors.model_versions().first() if model is None else None
    # No promoted model (none good enough yet, or the demo model retired): publish nothing.
    rows = (
        list(selectors.latest_scores(sector=sector, min_score=min_score, order=order))
        if model is not None
        else []
    )
    marks = selectors.user_marks(request.user)
    items = [
        {
            "s": s,
            "watched": s.ticker.symbol in marks["watchlist"],
            "held": s.ticker.symbol in marks["holding"],
        }
        for s in rows
    ]
    context = {
        "items": items,
        "sector": sector,
        "min_score": min_score,
        "error": error,
        "order": order,
        "orders": ORDER_CHOICES,
        "sectors": selectors.score_sectors(),
        "model": model,
        "no_model": NOT_GOOD_ENOUGH if model is None and latest_version else "",
        "latest_version": latest_version,
        "day": rows[0].date if rows else None,
        "demo": any(s.is_demo for s in rows),
        "score_range": range(1, 11),
        "filtered": bool(sector or min_score),
    }
    return render(request, "insights/scores/scores.html", context)


@require_GET
def model_card_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        version = ModelVersion.objects.get(pk=pk)
    except ModelVersion.DoesNotExist:
        raise Http404("No such model version.") from None
    coefs = _coefficients(version)
    comparison = version.comparison or {}
    context = {
        "v": version,
        "coefs": coefs,
        "folds": version.folds or [],
        "versions": list(selectors.model_versions()[:20]),
        "metric_rows": _metric_rows(version),
        "comparison": comparison,
        "incumbent_metrics": bool(comparison.get("incumbent_metrics")),
        "decision": _decision(version),
        "unit": UNIT,
    }
    return render(request, "insights/scores/model_card.html", context)


def _decision(version: ModelVersion) -> str:
    """One plain line: promoted (now or before), retired, or why not."""
    note = version.note or ""
    if note == "no model was promoted":  # the old rule's words for a first model
        note = "promoted under the earlier rule as the first model, without any comparison"
    if version.retired_at:
        return f"Retired on {version.retired_at:%Y-%m-%d}: {note}"
    if version.promoted:
        return f"Promoted, scoring now. {note}"
    if version.promoted_at:
        return f"Promoted on {version.promoted_at:%Y-%m-%d}, since replaced. {note}"
    return f"Not promoted. {note}" if note else "Not promoted."


def _metric_rows(version: ModelVersion) -> list[dict[str, Any]]:
    """Model, momentum baseline and (when re-run) the incumbent, all on the same test days,
    through the site's number rule: rank IC at 4 decimals everywhere on the card, percents at
    2, counts as integers; mean IC and its t-stat on the same non-overlapping sample."""
    names = [
        ("rank_ic_mean", "Rank IC (mean, non-overlapping days)", lambda v: numbers.number(v, 4)),
        ("rank_ic_tstat", "Rank IC t-stat (same days)", lambda v: numbers.number(v, 2)),
        (
            "rank_ic_mean_all_days",
            "Rank IC (mean, every test day)",
            lambda v: numbers.number(v, 4),
        ),
        ("hit_rate", "Hit rate", lambda v: numbers.plain_pct(v * 100)),
        (
            "decile_spread",
            "Top minus bottom decile (20 sessions)",
            lambda v: numbers.frac_pct(v, 2),
        ),
        ("test_days", "Test days", lambda v: f"{int(v):,}"),
        (
            "independent_days",
            "Non-overlapping days (mean and t-stat)",
            lambda v: f"{int(v):,}",
        ),
    ]
    m, b = version.metrics or {}, version.baseline_metrics or {}
    inc = (version.comparison or {}).get("incumbent_metrics") or {}

    def fmt(value, format_value):
        return "—" if value is None else format_value(value)

    return [
        {
            "label": label,
            "model": fmt(m.get(k), p),
            "baseline": fmt(b.get(k), p),
            "incumbent": fmt(inc.get(k), p),
        }
        for k, label, p in names
    ]


def _coefficients(version: ModelVersion) -> list[dict[str, Any]]:
    art = version.artifact or {}
    feats = art.get("features") or []
    coefs = art.get("coefs") or []
    n = len(feats)
    if len(coefs) != 2 * n:
        return []
    rows = [
        {
            "feature": f,
            "name": DESCRIPTIONS.get(f, f),
            "coef": coefs[i],
            "missing_coef": coefs[n + i],
        }
        for i, f in enumerate(feats)
    ]
    return sorted(rows, key=lambda r: -abs(r["coef"]))


@require_GET
def track_record_view(request: HttpRequest) -> HttpResponse:
    record = selectors.track_record()
    context: dict[str, Any] = {"record": record, "score_range": range(1, 11)}
    if not record.get("empty") and not record.get("pending"):
        context["score_chart"] = selectors.bar_chart(record["by_score"], "mean")
        context["quarter_chart"] = selectors.bar_chart(record["quarters"], "spread")
        context["calibration_chart"] = selectors.scatter_chart(record["calibration"])
    return render(request, "insights/scores/track_record.html", context)


# -- panels --------------------------------------------------------------------------------


def stock_panel_context(request: HttpRequest, ticker) -> dict[str, Any]:
    """The stock page's AI-score card: two queries (history with model, nothing else)."""
    history = selectors.ticker_history(ticker_id=ticker.pk, days=260)
    latest = history[-1] if history else None
    if latest is not None and latest.model_version.retired_at is not None:
        history, latest = [], None  # a retired (demo) model's scores are not shown
    return {
        "ticker": ticker,
        "latest": latest,
        **top_contributions(
            latest.reasons if latest else [], everything=latest.own_contributions if latest else []
        ),
        "market_context": latest.market_context if latest else [],
        "unit": UNIT,
        "chart": selectors.history_chart(history),
        "history_count": len(history),
    }


def top_contributions(
    items: list[dict[str, Any]], shown: int = 6, everything: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The `shown` largest contributions, the rest as one "other features" line, and the gap
    they explain (the sum of all), so the listed figures visibly add up to it:

    1. every figure is shown in points rounded to 2 decimals (half away from zero);
    2. "other features" is the rounded gap minus the rounded listed figures, so rounding
       never leaves the list 0.01 short of the total it claims;
    3. `everything` (default `items`) is the full list the gap is the sum of, when `items`
       leaves some out (a stock's reasons omit the ones that round to 0.00 points).
    """

    def points(value: Any) -> Decimal:
        return (Decimal(str(value)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    everything = items if everything is None else everything
    listed = items[:shown]
    rest = len(everything) - len(listed)
    gap = sum((Decimal(str(c["contribution"])) for c in everything), Decimal(0))
    other = points(gap) - sum((points(c["contribution"]) for c in listed), Decimal(0))
    # Only features that round to 0.00 left over, adding up to 0.00 too: no line for them.
    show_other = len(items) > shown or (rest > 0 and other != 0)
    return {
        "contributions": listed,
        "other_count": rest,
        "other_contribution": other / 100 if show_other else None,
        "contribution_gap": gap if everything else None,
    }


def dashboard_panel_context(request: HttpRequest) -> dict[str, Any]:
    """The dashboard's AI-score panel: the five best and five worst of the latest session
    (two queries)."""
    qs = selectors.latest_scores().filter(model_version__retired_at__isnull=True)
    top = list(qs[:5])
    bottom = (
        list(
            selectors.latest_scores(order="score").filter(model_version__retired_at__isnull=True)[
                :5
            ]
        )
        if top
        else []
    )
    return {"top": top, "bottom": bottom, "day": top[0].date if top else None}
