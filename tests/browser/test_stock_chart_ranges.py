"""The stock chart's ranges in a real browser: Max is the whole stored history on a desktop
and on a phone, 5Y is not Max, and the price axis never runs below zero."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def ten_years(transactional_db):
    """~2,600 weekday bars from 2016-01-04, climbing from 20 to about 200."""
    from markets.models import DailyBar
    from tests.factories import TickerFactory

    ticker = TickerFactory(symbol="LONG", name="Long History Inc.")
    rows, day, i = [], dt.date(2016, 1, 4), 0
    while day <= dt.date(2025, 12, 31):
        if day.weekday() < 5:
            close = D(20) + D(i) / 14
            rows.append(
                DailyBar(
                    ticker=ticker,
                    date=day,
                    open=close,
                    high=close + 1,
                    low=close - 1,
                    close=close,
                    volume=1_000_000 + i,
                    source="test",
                )
            )
            i += 1
        day += dt.timedelta(days=1)
    DailyBar.objects.bulk_create(rows)
    return rows


def visible(page) -> dict:
    return page.evaluate(
        """() => {
          const el = document.getElementById('stock-chart');
          return {from: el.dataset.rangeFrom, to: el.dataset.visibleTo,
                  drawnFrom: el.dataset.visibleFrom, bottom: Number(el.dataset.priceBottom)};
        }"""
    )


def choose(page, range_: str) -> dict:
    page.evaluate("() => { delete document.getElementById('stock-chart').dataset.visibleFrom; }")
    page.click(f'[data-range="{range_}"]')
    page.wait_for_function("() => document.getElementById('stock-chart').dataset.visibleFrom")
    return visible(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_max_is_the_whole_history_and_5y_is_not(browser, live_server, ten_years, width):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}, is_mobile=width < 600
    )
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/stocks/LONG/")
    page.wait_for_selector(f"#stock-chart[data-bars='{len(ten_years)}']")
    first, last = ten_years[0].date.isoformat(), ten_years[-1].date.isoformat()
    whole = choose(page, "Max")
    assert (whole["from"], whole["to"]) == (first, last), whole
    assert whole["bottom"] >= 0, whole  # no negative prices on the axis
    five = choose(page, "5Y")
    assert five["to"] == last
    assert "2020-12-31" <= five["from"] <= "2021-01-04", five
    one = choose(page, "1Y")
    assert "2024-12-31" <= one["from"] <= "2025-01-02", one
    assert one["bottom"] >= 0, one
    # a few bars before the range's start are drawn (room for its first label), not weeks
    assert "2024-11-15" <= one["drawnFrom"] < one["from"], one
    three = choose(page, "3M")
    assert "2025-09-30" <= three["from"] <= "2025-10-01", three
    ytd = choose(page, "YTD")
    assert ytd["from"] == "2025-01-01", ytd  # the year's first bar (a weekday in the fixture)
    assert errors == []
    context.close()
