"""Registrations this area makes when Django starts (dashboard and stock-page panels,
strategies): called once from `InsightsConfig.ready()`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from qunex.dashboard import register_panel, register_stock_panel


def dashboard_news_context(request: HttpRequest) -> dict[str, Any]:
    from insights.news import selectors

    return {"news_rows": selectors.latest_stories(limit=6)}


def stock_news_context(request: HttpRequest, ticker) -> dict[str, Any]:
    from insights.news import selectors

    return {"news_rows": selectors.ticker_news(ticker, limit=8), "news_ticker": ticker}


def register() -> None:
    register_panel(
        "news",
        template="insights/news/_dashboard_news.html",
        context=dashboard_news_context,
        order=40,
    )
    register_stock_panel(
        "news", template="insights/news/_stock_news.html", context=stock_news_context, order=40
    )
