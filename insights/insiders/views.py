"""Insider-trade pages: the latest trades with filters, cluster buys, the stock-page section
and the dashboard's recent-buys panel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from insights.insiders import selectors
from insights.insiders.models import TRANSACTION_CODES
from portfolios.selectors import watchlist_symbols_for
from qunex import params

TRADES_PER_PAGE = 50
CLUSTER_LOOKBACK_DAYS = 90


class TradeFilterForm(params.QueryForm):
    ticker = forms.RegexField(regex=r"^[A-Za-z0-9.\-]{1,12}$", required=False, max_length=12)
    code = forms.ChoiceField(
        choices=[("", "Any code")] + [(c, f"{c} · {m}") for c, m in TRANSACTION_CODES.items()],
        required=False,
    )
    role = forms.ChoiceField(choices=[("", "Any role"), *selectors.ROLES.items()], required=False)
    min_value = params.DecimalParam(min_value=0)
    buys_only = params.BooleanParam()
    watchlists = params.BooleanParam()
    page = params.PageParam(initial=1)


@require_GET
@params.query_form(TradeFilterForm, announce=False)  # the page lists form.errors itself
def trades_view(request: HttpRequest, query: dict) -> HttpResponse:
    form, values = query.form, query
    symbols: list[str] | None = None
    if values.get("ticker"):
        symbols = [values["ticker"].upper()]
    if values.get("watchlists") and request.user.is_authenticated:
        mine = watchlist_symbols_for(user=request.user)
        symbols = [s for s in symbols if s in mine] if symbols is not None else mine
    trades = selectors.trades_list(
        symbols=symbols,
        code=values.get("code") or None,
        role=values.get("role") or None,
        min_value=values.get("min_value"),
        buys_only=bool(values.get("buys_only")),
    )
    page = Paginator(trades, TRADES_PER_PAGE).get_page(values["page"])
    today = timezone.now().date()
    context = {
        "form": form,
        "page": page,
        "trades": [(t, selectors.is_large_buy(t)) for t in page.object_list],
        "clusters": selectors.cluster_buys(since=today - timedelta(days=CLUSTER_LOOKBACK_DAYS))[
            :10
        ],
        "cluster_days": CLUSTER_LOOKBACK_DAYS,
        "codes": TRANSACTION_CODES,
        "roles": selectors.ROLES,
        "filtered": any(
            values.get(k)
            for k in ("ticker", "code", "role", "min_value", "buys_only", "watchlists")
        ),
    }
    status = 400 if query.problems else 200
    return render(request, "insights/insiders/trades.html", context, status=status)


def stock_panel_context(request: HttpRequest, ticker) -> dict[str, Any]:
    trades = selectors.ticker_trades(ticker=ticker, limit=10)
    return {"ticker": ticker, "trades": [(t, selectors.is_large_buy(t)) for t in trades]}


def dashboard_panel_context(request: HttpRequest) -> dict[str, Any]:
    return {"buys": selectors.recent_buys(limit=6)}
