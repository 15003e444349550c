"""A trader in a real browser: create a portfolio, add and import transactions, see holdings
and charts, add a ticker to a watchlist and set a price alert, with no console errors and no
CSP violations along the way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def market_rows(transactional_db):
    from markets.models import DailyBar, Quote
    from tests.factories import TickerFactory

    tickers = {
        "AAPL": TickerFactory(symbol="AAPL", name="Apple Inc.", sector="Technology"),
        "XOM": TickerFactory(symbol="XOM", name="Exxon Mobil", sector="Energy"),
        "SPY": TickerFactory(symbol="SPY", name="SPDR S&P 500", sector="", asset_type="etf"),
    }
    end = dt.date.today() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=200)
    rows = []
    for n, ticker in enumerate(tickers.values()):
        day, i = start, 0
        while day <= end:
            if day.weekday() < 5:
                close = D(100 + n * 50) + D(i) / 4
                rows.append(
                    DailyBar(
                        ticker=ticker,
                        date=day,
                        open=close,
                        high=close,
                        low=close,
                        close=close,
                        source="test",
                    )
                )
                i += 1
            day += dt.timedelta(days=1)
        Quote.objects.create(
            ticker=ticker,
            price=rows[-1].close,
            change=D(1),
            change_pct=D("0.5"),
            as_of=dt.datetime.now(dt.UTC),
            source="test",
        )
    DailyBar.objects.bulk_create(rows)
    return tickers


def log_in(page, user):
    from tests.factories import PASSWORD

    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url("**/")


def test_portfolio_watchlist_and_alert_journey(market_rows, page, live_server):
    from tests.factories import UserFactory

    user = UserFactory()
    log_in(page, user)
    first_day = (dt.date.today() - dt.timedelta(days=150)).isoformat()

    # 1. An empty list says how to start; create a portfolio.
    page.goto("/portfolios/")
    assert page.get_by_text("No portfolios yet").is_visible()
    page.click("text=Create your first portfolio")
    page.fill("input[name=name]", "Browser portfolio")
    assert page.input_value("input[name=benchmark]") == "SPY"
    page.click("button:has-text('Create portfolio')")
    page.wait_for_url("**/portfolios/*/")
    assert page.get_by_text("No transactions yet").is_visible()

    # 2. Add a buy; a sale of more than held is refused on the quantity field.
    page.click("text=Add a buy")
    page.fill("input[name=symbol]", "AAPL")
    page.fill("input[name=trade_date]", first_day)
    page.fill("input[name=quantity]", "10")
    page.fill("input[name=price]", "100")
    page.click("#txn-form button[type=submit]:has-text('Add')")
    page.wait_for_url("**/portfolios/*/")
    page.click("text=Add transaction")
    page.select_option("select[name=type]", "sell")
    assert page.locator('[data-field="amount"]').is_hidden()
    page.fill("input[name=symbol]", "AAPL")
    page.fill("input[name=trade_date]", first_day)
    page.fill("input[name=quantity]", "11")
    page.fill("input[name=price]", "120")
    page.click("#txn-form button[type=submit]:has-text('Add')")
    assert "exceeds the 10 held" in page.locator('[data-field="quantity"] .errorlist').inner_text()

    # 3. Import a CSV: upload, preview, confirm.
    page.click("text=Cancel")
    page.click(".subnav >> text=Import")
    csv = f"date,action,ticker,qty,price,commission\n{first_day},buy,XOM,20,150,1\n".encode()
    page.set_input_files(
        "input[name=file]", files=[{"name": "trades.csv", "mimeType": "text/csv", "buffer": csv}]
    )
    page.click("button:has-text('Preview')")
    assert "1 row read, no problems found" in page.locator("#import-preview").inner_text()
    page.click("#import-confirm")
    page.wait_for_url("**/portfolios/*/")
    assert "Imported 1 transactions" in page.locator(".messages").inner_text()

    # 4. Holdings, the value chart and the period buttons.
    holdings = page.locator("#pf-holdings")
    assert holdings.locator('tr[data-symbol="AAPL"]').is_visible()
    assert holdings.locator('tr[data-symbol="XOM"]').is_visible()
    page.wait_for_selector("#pf-chart canvas")
    assert page.locator(".bars .bar-fill").count() >= 2
    # the period buttons are links to the same ?start= window the API takes
    page.click("#pf-periods a:has-text('1M')")
    page.wait_for_url("**/portfolios/*/?start=*")
    assert page.get_attribute("#pf-periods a:has-text('1M')", "aria-current") == "true"
    assert "1 month" in page.locator(".pf-window-summary").inner_text()
    page.wait_for_selector("#pf-chart canvas")
    # the chart fills its card: no empty band under it beside the taller Returns card
    gap = page.evaluate(
        """() => {
          const card = document.querySelector('.pf-chart-card').getBoundingClientRect();
          const legend = document.querySelector('.pf-chart-card .chart-legend').getBoundingClientRect();
          return card.bottom - legend.bottom;
        }"""
    )
    assert gap < 60, gap

    # The quote feed updates the row and the totals (a visible tab polls at once).
    from markets.feedcache import feed_invalidate
    from markets.models import Quote

    Quote.objects.filter(ticker=market_rows["AAPL"]).update(price=D("250"), change=D("2"))
    feed_invalidate()  # as every quote write does: the feed's answers are now stale
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    aapl = holdings.locator('tr[data-symbol="AAPL"]')
    expect(aapl.locator('[data-cell="price"]')).to_have_text("250.00")
    assert aapl.locator('[data-cell="value"]').inner_text() == "$2,500.00"
    assert "+$20.00" in aapl.locator('[data-cell="day"]').inner_text()  # 10 x (250 - 248)
    status = page.locator("[data-feed-state]").inner_text()
    assert "prices checked every" in status and "last checked" in status, status

    # 5. A watchlist with a ticker from the autocomplete list.
    page.goto("/watchlists/")
    assert page.get_by_text("No watchlists yet").is_visible()
    page.fill("input[name=name]", "Energy")
    page.click("button:has-text('Create watchlist')")
    page.wait_for_url("**/watchlists/*/")
    assert page.locator("#ticker-options option[value='XOM']").count() == 1
    page.fill("form.inline-form input[name=symbol]", "xom")
    page.click("form.inline-form button:has-text('Add')")
    page.wait_for_url("**/watchlists/*/")
    assert page.locator('#wl-table tr[data-symbol="XOM"]').is_visible()

    # 6. A price alert from the watchlist row.
    page.click('#wl-table tr[data-symbol="XOM"] >> text=Alert')
    page.wait_for_url("**/alerts/?symbol=XOM*")
    assert page.input_value("input[name=symbol]") == "XOM"
    page.fill("input[name=threshold]", "500")
    page.click("button:has-text('Set alert')")
    page.wait_for_url("**/alerts/")
    assert "XOM rises to or above 500" in page.locator(".messages").inner_text()
    assert page.get_by_text("armed").first.is_visible()

    assert page.watch.errors == []
