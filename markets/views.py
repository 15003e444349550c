"""Market pages: the dashboard, the stocks list, a stock's page and its chart data."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from markets import quotes, selectors
from markets.models import Ticker
from markets.queries import StockListQuery
from qunex import dashboard
from qunex.params import query_form

STOCKS_PER_PAGE = 50  # also the feed's symbol limit: a page polls in one request

# Placeholder slots the insights app fills; a registered panel of the same name wins.
DASHBOARD_SLOTS = (
    (
        "ai_scores",
        "AI scores",
        "A model score from 0 to 100 for each stock in your universe, with the factors behind "
        "it, ranked so the strongest and weakest setups come first.",
    ),
    (
        "news",
        "News",
        "Headlines for your watchlist and the market, each with a short AI summary and its "
        "likely impact on the stocks it names.",
    ),
    (
        "events",
        "Upcoming events",
        "Earnings dates, dividends and the economic calendar (CPI, jobs, Fed decisions) for "
        "the coming days.",
    ),
)
STOCK_SLOTS = (
    (
        "ai_score",
        "AI score",
        "A model score from 0 to 100 for this stock, its trend, and the factors behind it.",
    ),
    (
        "news",
        "News",
        "Recent headlines about this company with an AI summary and sentiment for each.",
    ),
    (
        "insiders",
        "Insider trades",
        "Purchases and sales by officers and directors from SEC Form 4 filings.",
    ),
)


def _feed_context() -> dict:
    return {
        "poll_seconds": quotes.poll_seconds(),
        "closed_poll_seconds": quotes.closed_poll_seconds(),
        "max_symbols": quotes.MAX_SYMBOLS,
    }


@require_GET
def dashboard_view(request: HttpRequest) -> HttpResponse:
    universe = selectors.universe_summary()
    panels = dashboard.render_context(request)
    registered = {p["name"] for p in panels}
    context = {
        "universe": universe,
        "market": quotes.market_status(),
        "panels": panels,
        "slots": [s for s in DASHBOARD_SLOTS if s[0] not in registered],
        "feed": _feed_context(),
    }
    if not universe.is_empty:
        gainers, losers = selectors.movers(limit=5)
        context |= {
            "indexes": selectors.tickers_by_symbol(selectors.INDEX_ETFS),
            "index_symbols": selectors.INDEX_ETFS,
            "gainers": gainers,
            "losers": losers,
        }
    return render(request, "markets/dashboard.html", context)


def balanced_paginator(items, most: int) -> Paginator:
    """Pages of at most `most` rows, as even as they can be: 51 rows are 26 + 25, not
    50 + 1; 100 are 50 + 50. One count query, as a plain Paginator."""
    count = len(items) if isinstance(items, list | tuple) else items.count()
    pages = max(1, -(-count // most))
    paginator = Paginator(items, max(1, -(-count // pages)))
    paginator.count = count  # cached_property: the count is not asked for again
    return paginator


@require_GET
@query_form(StockListQuery)
def stock_list_view(request: HttpRequest, query: dict) -> HttpResponse:
    search, sector, sort = query["q"], query["sector"], query["sort"]
    tickers = selectors.ticker_list(search=search, sector=sector, sort=sort)
    page = balanced_paginator(tickers, STOCKS_PER_PAGE).get_page(query["page"])
    context = {
        "page": page,
        "tickers": page.object_list,
        "search": search,
        "sector": sector,
        "sort": sort,
        "sectors": selectors.sector_list(),
        "columns": [
            ("symbol", "Symbol", ""),
            ("name", "Name", "hide-sm"),
            ("sector", "Sector", "hide-md"),
            ("price", "Price", "num"),
            ("change_pct", "Change", "num"),
            ("market_cap", "Market cap", "num hide-sm"),
        ],
        "has_demo": any(t.is_demo for t in page.object_list),
        "feed": _feed_context(),
    }
    return render(request, "markets/stock_list.html", context)


@require_GET
def stock_detail_view(request: HttpRequest, symbol: str) -> HttpResponse:
    ticker = selectors.ticker_get(symbol=symbol)
    if ticker is None:
        return render(
            request,
            "markets/stock_not_found.html",
            {"symbol": symbol.upper()[:20], "sectors": []},
            status=404,
        )
    panels = dashboard.render_stock_context(request, ticker)
    registered = {p["name"] for p in panels}
    context = {
        "ticker": ticker,
        "quote": _quote(ticker),
        "stats": selectors.key_stats(ticker=ticker),
        "market": quotes.market_status(),
        "panels": panels,
        "slots": [s for s in STOCK_SLOTS if s[0] not in registered],
        "feed": _feed_context(),
        "ranges": ["1M", "3M", "6M", "YTD", "1Y", "5Y", "Max"],
    }
    return render(request, "markets/stock_detail.html", context)


@require_GET
def stock_chart_data_view(request: HttpRequest, symbol: str) -> JsonResponse:
    """Every stored daily bar as compact rows for the chart; cached by the browser a minute."""
    ticker = selectors.ticker_get(symbol=symbol)
    if ticker is None:
        return JsonResponse(
            {"detail": f"Unknown symbol {symbol.upper()[:20]!r}: not in the Qunex universe."},
            status=404,
        )
    response = JsonResponse(
        {
            "symbol": ticker.symbol,
            "is_demo": ticker.is_demo,
            "columns": ["date", "open", "high", "low", "close", "volume"],
            "bars": selectors.chart_bars(ticker=ticker),
            "generated_at": timezone.now(),
        }
    )
    response["Cache-Control"] = "public, max-age=60"
    return response


def _quote(ticker: Ticker):
    try:
        return ticker.quote
    except Ticker.quote.RelatedObjectDoesNotExist:
        return None
