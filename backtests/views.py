from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from backtests import display, selectors, services
from backtests.forms import BacktestForm
from backtests.models import Backtest
from backtests.queries import (
    BacktestDetailQuery,
    BacktestListQuery,
    BacktestNewQuery,
    BacktestStatusQuery,
)
from backtests.stats import SWEEP_KEYS
from qunex.params import query_form

PAGE_SIZE = 25


def _own(request: HttpRequest, pk: int) -> Backtest:
    try:
        return selectors.backtest_get(user=request.user, pk=pk)
    except Backtest.DoesNotExist:
        raise Http404("No such backtest.") from None


@login_required
@require_GET
@query_form(BacktestListQuery)
def backtest_list(request: HttpRequest, query: dict) -> HttpResponse:
    page = Paginator(selectors.backtest_list(user=request.user), PAGE_SIZE).get_page(query["page"])
    return render(request, "backtests/list.html", {"page": page, "backtests": page.object_list})


def _default_dates(symbol: str) -> dict:
    """The last three years of the ticker's bars (or all of them)."""
    span = selectors.bar_span(symbol=symbol)
    if span is None:
        return {}
    first, end = span
    start = max(first, end - timedelta(days=3 * 365))
    return {"start": start, "end": end}


@login_required
@query_form(BacktestNewQuery)
def backtest_new(request: HttpRequest, query: dict) -> HttpResponse:
    if request.method == "POST":
        form = BacktestForm(request.POST)
        if form.is_valid():
            try:
                backtest = services.backtest_submit(user=request.user, **form.service_kwargs())
            except ValidationError as exc:
                form.apply_errors(exc.message_dict)
            else:
                _say_how_it_went(request, backtest)
                return redirect(backtest)
    else:
        if source := query["from"]:
            initial = BacktestForm.initial_from(_own(request, source))
        else:
            initial = {"ticker": "SPY", "strategy": "sma_cross", **_default_dates("SPY")}
        form = BacktestForm(initial=initial)
    return render(
        request,
        "backtests/new.html",
        {
            "form": form,
            "symbols": selectors.ticker_symbols(),
            "strategy_fields": form.strategy_fields(),
        },
    )


def _percent(fraction: Decimal | None) -> str:
    """0.0015 -> '0.15' (no trailing zeros, no exponent)."""
    if fraction is None:
        return ""
    return format((fraction * 100).normalize(), "f")


@login_required
@require_GET
@query_form(BacktestDetailQuery)
def backtest_detail(request: HttpRequest, pk: int, query: dict) -> HttpResponse:
    backtest = _own(request, pk)
    result = backtest.result or {}
    percents = {
        name: _percent(getattr(backtest, name))
        for name in ("commission", "spread", "stop_loss", "take_profit", "walk_forward")
    }
    context: dict = {
        "backtest": backtest,
        "result": result,
        "sweep_keys": SWEEP_KEYS,
        "percents": percents,
    }
    if backtest.status == Backtest.Status.SUCCEEDED and result:
        if result.get("kind") == "sweep":
            run = result.get("best_run")
            metric = query["metric"] or result.get("metric")
            context.update(
                heatmap=display.heatmap(result, metric),
                metric=metric,
                sweep_names=list(result.get("grid") or {}),
                sweep_rows=display.sweep_rows(result),
                walk_forward=result.get("walk_forward"),
                walk_forward_rows=display.walk_forward_rows(result),
                split_date=display.split_date(result),
            )
        else:
            run = result
        context.update(
            run=run,
            headline=display.stat_rows(run["stats"], display.HEADLINE) if run else [],
            stat_columns=display.stat_columns(display.stat_rows(run["stats"]) if run else []),
            trades=display.trade_rows(run),
            chart=display.chart_data(run),
        )
    return render(request, "backtests/detail.html", context)


def _say_how_it_went(request: HttpRequest, backtest: Backtest, *, what: str = "Backtest") -> None:
    if backtest.status == Backtest.Status.SUCCEEDED:
        seconds = (backtest.finished_at - backtest.started_at).total_seconds()
        messages.success(request, f"{what} #{backtest.pk} ran in {seconds:.2f} s.")
    elif backtest.status == Backtest.Status.FAILED:
        messages.error(request, f"{what} #{backtest.pk} failed: {backtest.error}")
    else:
        messages.success(
            request, f"{what} #{backtest.pk} queued. This page refreshes when it has run."
        )


@login_required
@require_POST
def backtest_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    backtest = _own(request, pk)
    try:
        again = services.backtest_rerun(backtest=backtest, user=request.user)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                messages.error(
                    request,
                    f"Can't re-run: {error}"
                    if field == "__all__"
                    else f"Can't re-run ({field}): {error}",
                )
        return redirect(backtest)
    _say_how_it_went(request, again, what="Re-run")
    return redirect(again)


@login_required
@require_POST
def backtest_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    backtest = _own(request, pk)
    try:
        services.backtest_cancel(backtest=backtest)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Backtest cancelled.")
    return redirect(backtest)


@login_required
@require_GET
@query_form(BacktestStatusQuery, announce=False)  # JSON: junk ids are simply not matched
def backtest_status(request: HttpRequest, query: dict) -> JsonResponse:
    """Status of the caller's backtests among ?id=...; the list and detail pages poll it."""
    ids = query["id"]
    rows = selectors.backtest_statuses(user=request.user, ids=ids)
    for row in rows:
        row["url"] = reverse("backtests:backtest_detail", args=[row["id"]])
    return JsonResponse({"backtests": rows})
