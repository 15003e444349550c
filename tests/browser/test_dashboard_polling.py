"""The dashboard's quote polling and the stock chart, in a real browser (Chromium)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest

from markets.models import Quote
from tests.factories import DailyBarFactory, QuoteFactory, TickerFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_db(transactional_db):
    """The database before the browser: list it first in each test's arguments."""


@pytest.fixture
def fast_feed(settings):
    """Poll every second whether or not the market is open; cache feed entries briefly."""
    settings.MARKET_FEED_POLL_SECONDS = 1
    settings.MARKET_FEED_CLOSED_POLL_SECONDS = 1
    settings.MARKET_FEED_CACHE_SECONDS = 0.5


@pytest.fixture
def market(browser_db):
    spy = TickerFactory(symbol="SPY", name="SPDR S&P 500 ETF Trust", asset_type="etf", is_demo=True)
    QuoteFactory(ticker=spy, price=Decimal("500"), change=Decimal("2"), change_pct=Decimal("0.4"))
    aapl = TickerFactory(symbol="AAPL", name="Apple Inc.", is_demo=True)
    QuoteFactory(ticker=aapl, price=Decimal("190"), change=Decimal("1"), change_pct=Decimal("0.5"))
    start = dt.date(2023, 1, 2)
    for i in range(300):
        close = Decimal(150 + (i % 40))
        DailyBarFactory(
            ticker=aapl,
            date=start + dt.timedelta(days=i),
            open=close - 1,
            close=close,
            high=close + 2,
            low=close - 3,
        )
    return spy


def _feed_responses(page) -> list[int]:
    statuses: list[int] = []
    page.on(
        "response",
        lambda r: statuses.append(r.status) if "/api/market-data" in r.url else None,
    )
    return statuses


def test_dashboard_price_updates_from_the_feed(browser_db, page, live_server, fast_feed, market):
    statuses = _feed_responses(page)
    page.goto("/")
    price = page.locator('.index-card[data-quote="SPY"] [data-q="price"]')
    assert price.inner_text() == "500.00"
    assert page.locator("h1 .badge.demo", has_text="Demo data").is_visible()

    # Nothing changed yet: the polls after the first are answered 304.
    page.wait_for_function(
        "() => document.querySelector('[data-feed-state]').textContent.includes('prices checked every')"
    )
    deadline = time.monotonic() + 5
    while 304 not in statuses and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert 200 in statuses and 304 in statuses, statuses

    # A new price in the database shows up within a poll or two.
    Quote.objects.filter(ticker__symbol="SPY").update(
        price=Decimal("512.34"), change=Decimal("-1.5"), change_pct=Decimal("-0.29")
    )
    page.wait_for_function(
        "() => document.querySelector('.index-card[data-quote=\"SPY\"] [data-q=\"price\"]').textContent === '512.34'",
        timeout=5000,
    )
    change = page.locator('.index-card[data-quote="SPY"] [data-q="change_pct"]')
    assert change.inner_text() == "\u22120.29%"
    assert "down" in page.locator('.index-card[data-quote="SPY"] [data-updown]').get_attribute(
        "class"
    )
    age = page.locator('.index-card[data-quote="SPY"] [data-q="age"]').inner_text()
    assert age.endswith("s ago") or age.endswith("m ago"), age

    assert page.watch.errors == []


def test_polling_pauses_while_the_tab_is_hidden(browser_db, page, live_server, fast_feed, market):
    statuses = _feed_responses(page)
    page.goto("/")
    page.wait_for_timeout(2500)
    assert statuses, "the dashboard should be polling"
    page.evaluate(
        "() => { Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    page.wait_for_timeout(500)  # a poll already in flight may still land
    hidden_count = len(statuses)
    page.wait_for_timeout(3000)
    assert len(statuses) == hidden_count, "no polling while hidden"
    page.evaluate(
        "() => { Object.defineProperty(document, 'hidden', {value: false, configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    page.wait_for_timeout(1500)
    assert len(statuses) > hidden_count, "polling resumes when visible"
    assert page.watch.errors == []


def test_stock_chart_draws_and_switches_range(browser_db, page, live_server, market):
    page.goto("/stocks/AAPL/")
    page.wait_for_selector("#stock-chart[data-bars='300']")
    assert page.locator("#stock-chart canvas").count() > 0
    button = page.locator('[data-range="1M"]')
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    assert page.locator('[data-range="1Y"]').get_attribute("aria-pressed") == "false"
    page.locator('[data-range="Max"]').click()
    page.locator(".theme-toggle").click()  # colors follow the theme without errors
    page.wait_for_timeout(200)
    assert page.watch.errors == []


def test_unknown_stock_page_in_the_browser(browser_db, page, live_server, market):
    response = page.goto("/stocks/NOPE/")
    assert response.status == 404
    assert "no stock with the symbol NOPE" in page.locator("main").inner_text()
    # The browser logs the page's own 404 status; nothing else (no CSP violation, no JS error).
    others = [e for e in page.watch.errors if "status of 404" not in e]
    assert others == []
