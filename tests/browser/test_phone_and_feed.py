"""At 390 px the portfolio tables show their key columns without a sideways scroll, and the
one quote poller never runs two loops nor chatters in its live region."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from tests.browser.test_portfolio_journey import log_in, market_rows

pytestmark = pytest.mark.browser

__all__ = ["market_rows"]  # fixtures shared with the journey


@pytest.fixture
def fast_feed(settings):
    settings.MARKET_FEED_POLL_SECONDS = 1
    settings.MARKET_FEED_CLOSED_POLL_SECONDS = 1
    settings.MARKET_FEED_CACHE_SECONDS = 0.5


@pytest.fixture
def trader(market_rows):
    """A user with a portfolio (2 holdings, a sale), a watchlist with targets and 2 alerts."""
    from portfolios import services
    from tests.factories import UserFactory

    user = UserFactory()
    portfolio = services.portfolio_create(owner=user, name="Phone portfolio")
    day = dt.date.today() - dt.timedelta(days=120)
    for symbol, qty, price in (("AAPL", "10", "100"), ("XOM", "20", "150")):
        services.transaction_create(
            portfolio=portfolio,
            type="buy",
            trade_date=day,
            symbol=symbol,
            quantity=qty,
            price=price,
            notes="A long note about why this position was opened, kept for later.",
        )
    services.transaction_create(
        portfolio=portfolio,
        type="sell",
        trade_date=day + dt.timedelta(days=30),
        symbol="AAPL",
        quantity="2",
        price="130.55",
    )
    watchlist = services.watchlist_create(owner=user, name="Phone list")
    for symbol in ("AAPL", "XOM", "SPY"):
        services.watchlist_item_add(
            watchlist=watchlist, symbol=symbol, note="watching the breakout", target_above=D(999)
        )
    services.alert_create(owner=user, symbol="AAPL", direction="above", threshold="1000")
    alert = services.alert_create(owner=user, symbol="XOM", direction="below", threshold="1")
    services.alert_check(alert=alert, price=D("0.5"))
    return user, portfolio, watchlist


KEY_COLUMNS = {
    "portfolio": ("#pf-holdings", ["Symbol", "Day", "Market value", "Unrealized"]),
    "transactions": (".pf-table", ["Date", "Type", "Cash effect", "Actions"]),
    "watchlist": ("#wl-table", ["Symbol", "Price", "Day"]),
    "alerts": (".pf-table", ["Symbol", "When", "Price", "Status"]),
}


def test_tables_show_key_columns_at_390px_without_scrolling(browser, live_server, trader):
    user, portfolio, watchlist = trader
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, user)
    urls = {
        "portfolio": f"/portfolios/{portfolio.pk}/",
        "transactions": f"/portfolios/{portfolio.pk}/transactions/",
        "watchlist": f"/watchlists/{watchlist.pk}/",
        "alerts": "/alerts/",
    }
    for name, url in urls.items():
        page.goto(url)
        selector, headers = KEY_COLUMNS[name]
        table = page.locator(selector).first
        shown = [h.strip() for h in table.locator("thead th").all_inner_texts() if h.strip()]
        visible = [h for h in headers if table.locator("thead th", has_text=h).first.is_visible()]
        assert visible == headers, (name, shown)
        fits = page.evaluate(
            """() => ({
              wraps: [...document.querySelectorAll('.table-wrap')].map(
                (w) => [w.scrollWidth, w.clientWidth]),
              page: document.documentElement.scrollWidth,
            })"""
        )
        assert all(inner <= outer + 1 for inner, outer in fits["wraps"]), (name, fits)
        assert fits["page"] <= 390, (name, fits)
        # every row's key cells are on screen, and a line says what a wider screen adds
        first_row = table.locator("tbody tr").first
        box = first_row.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 391, (name, box)
        assert page.locator("p.phone-only").first.is_visible() or name == "alerts"
    actions = page.locator(".pf-table tbody tr").first.locator("button, a")
    assert actions.first.is_visible()  # alerts keep their actions
    assert errors == []
    context.close()


INSTRUMENT = """
  window.__feed = {active: 0, maxActive: 0, calls: 0};
  const realFetch = window.fetch;
  window.fetch = function (url, opts) {
    if (String(url).indexOf('/api/market-data') < 0) return realFetch(url, opts);
    window.__feed.calls += 1;
    window.__feed.active += 1;
    window.__feed.maxActive = Math.max(window.__feed.maxActive, window.__feed.active);
    return new Promise((resolve) => setTimeout(resolve, 700))
      .then(() => realFetch(url, opts))
      .finally(() => { window.__feed.active -= 1; });
  };
"""

TOGGLE = """(hidden) => {
  Object.defineProperty(document, 'hidden', {value: hidden, configurable: true});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_one_poller_whatever_the_tab_does_and_a_quiet_live_region(
    page, live_server, fast_feed, trader
):
    user, portfolio, _ = trader
    page.add_init_script(INSTRUMENT)
    log_in(page, user)
    page.goto(f"/portfolios/{portfolio.pk}/")
    page.wait_for_function("() => window.__feed.calls >= 1")
    # hide and show the tab again and again while a fetch is in flight
    for _ in range(4):
        page.wait_for_function("() => window.__feed.active === 1")
        page.evaluate(TOGGLE, True)
        page.evaluate(TOGGLE, False)
        page.evaluate(TOGGLE, False)
    page.wait_for_timeout(300)
    start = page.evaluate("() => window.__feed.calls")
    page.wait_for_timeout(4000)
    feed = page.evaluate("() => window.__feed")
    assert feed["maxActive"] == 1, feed
    # one loop: 1 s between answers + 0.7 s per answer gives at most ~3 calls in 4 s
    assert feed["calls"] - start <= 3, feed

    # the status line: the sentence is live, the ticking time is not
    live = page.locator("[data-feed-state] [aria-live]")
    assert live.count() == 1
    assert page.locator("[data-feed-state]").get_attribute("aria-live") is None
    page.evaluate(
        """() => {
          window.__announced = 0;
          new MutationObserver(() => { window.__announced += 1; }).observe(
            document.querySelector('[data-feed-state] [aria-live]'),
            {childList: true, characterData: true, subtree: true});
        }"""
    )
    page.wait_for_timeout(3500)  # two or three more polls
    assert page.evaluate("() => window.__announced") == 0
    text = page.locator("[data-feed-state]").inner_text()
    assert "prices checked every 1 s" in text and "last checked" in text, text
    assert page.watch.errors == []
