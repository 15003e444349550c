"""Market pages: the dashboard, the stocks list and the stock page, as a trader sees them."""

from __future__ import annotations

import datetime as dt
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from qunex import dashboard
from tests.factories import DailyBarFactory, QuoteFactory, TickerFactory

pytestmark = pytest.mark.django_db

OPEN = datetime(2025, 6, 10, 15, 0, tzinfo=UTC)  # Tuesday 11:00 New York
CLOSED = datetime(2025, 6, 14, 15, 0, tzinfo=UTC)  # Saturday


def _text(response) -> str:
    """The page's visible text, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _stock(symbol: str, change_pct: str | None = "1", *, price: str = "100", **ticker) -> None:
    t = TickerFactory(symbol=symbol, **ticker)
    QuoteFactory(
        ticker=t,
        price=Decimal(price),
        change=None if change_pct is None else Decimal(change_pct),
        change_pct=None if change_pct is None else Decimal(change_pct),
    )
    return t


@pytest.fixture
def isolated_panels(monkeypatch):
    """Register test panels without leaking them into other tests."""
    monkeypatch.setattr(dashboard, "_PANELS", {})
    return dashboard


# --- dashboard -----------------------------------------------------------------------------


def test_login_redirect_target_is_the_dashboard():
    assert reverse("dashboard") == "/"


def test_empty_dashboard_says_what_will_appear_and_only_staff_how(client, staff_user):
    response = client.get("/")
    assert response.status_code == 200
    text = _text(response)
    assert "No market data yet" in text
    assert "after every close" in text
    assert "manage.py" not in text and "POLYGON_API_KEY" not in text
    assert 'class="badge demo"' not in response.content.decode()

    client.force_login(staff_user)
    text = _text(client.get("/"))
    assert "make run" in text
    assert "manage.py import_prices" in text
    assert "POLYGON_API_KEY" in text and "manage.py refresh_market_data" in text


def test_dashboard_shows_indexes_movers_and_slots(client):
    _stock("SPY", "0.5", price="543.21", asset_type="etf", name="SPDR S&P 500 ETF Trust")
    _stock("QQQ", "-0.25", price="470.1", asset_type="etf")
    for i, pct in enumerate(["5", "4", "3", "2", "1", "0.5", "-0.5", "-1", "-2", "-3", "-4", "-6"]):
        _stock(f"S{i:02d}", pct)
    _stock("FLAT", "0")
    _stock("NOCHG", None)
    with time_machine.travel(OPEN, tick=False):
        response = client.get("/")
    text = _text(response)
    html = response.content.decode()

    assert "SPY" in text and "543.21" in text and "+0.50%" in text
    assert "QQQ" in text and "\u22120.25%" in text
    assert "DIA" not in text  # not in this universe: no empty card for it

    def table(title):
        section = html.split(f">{title}</h2>")[1].split("</section>")[0]
        return re.findall(r'data-quote="([A-Z0-9]+)"', section)

    assert table("Top gainers") == ["S00", "S01", "S02", "S03", "S04"]
    assert table("Top losers") == ["S11", "S10", "S09", "S08", "S07"]  # ETFs are not movers

    for slot in ("AI scores", "News", "Upcoming events"):
        assert slot in text
    assert "Coming soon" not in text  # every slot is filled by an insights panel
    assert "Market open" in text and "closes Tue 2025-06-10 20:00 UTC" in text
    assert 'data-feed-url="/api/market-data"' in html
    assert 'data-poll-seconds="15"' in html and 'data-closed-poll-seconds="60"' in html
    assert "/static/js/feed.js" in html  # the one poller every page uses
    assert 'class="badge demo"' not in html


def test_demo_universe_is_labelled(client):
    _stock("SPY", "1", asset_type="etf", is_demo=True)
    _stock("AAPL", "2", is_demo=True)
    html = client.get("/").content.decode()
    assert (
        '<span class="badge demo" title="Synthetic prices, not real market data">Demo data</span>'
        in html
    )


def test_market_times_are_in_the_users_zone(client, user):
    from accounts.models import Profile

    Profile.objects.update_or_create(user=user, defaults={"timezone": "Europe/Paris"})
    client.force_login(user)
    _stock("AAPL")
    with time_machine.travel(CLOSED, tick=False):
        text = _text(client.get("/"))
    # Monday 16 June 09:30 New York is 15:30 in Paris (CEST).
    assert "Market closed" in text
    assert "opens Mon 2025-06-16 15:30 CEST" in text


def test_poll_interval_comes_from_settings(client, settings):
    settings.MARKET_FEED_POLL_SECONDS = 2
    settings.MARKET_FEED_CLOSED_POLL_SECONDS = 7
    _stock("AAPL")
    html = client.get("/").content.decode()
    assert 'data-poll-seconds="2"' in html and 'data-closed-poll-seconds="7"' in html


def test_registered_panel_renders_and_replaces_its_slot(client, isolated_panels):
    _stock("AAPL")
    isolated_panels.register_panel(
        "news",
        template="markets/_slot.html",  # any template: it renders its context's `slot`
        context=lambda request: {"slot": ("news", "Fresh headlines", "Ten stories today.")},
    )
    text = _text(client.get("/"))
    assert "Fresh headlines" in text and "Ten stories today." in text
    assert "Headlines for your watchlist and the market" not in text  # the placeholder went
    assert "AI scores" in text  # the other slots stay


def test_panel_context_is_visible_three_ways(client, isolated_panels, tmp_path, settings):
    (tmp_path / "panel.html").write_text(
        "<p>[{{ items|join:',' }}|{{ context.items|join:',' }}|{{ panel.context.items|join:',' }}|{{ panel.name }}]</p>"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    isolated_panels.register_panel(
        "watchlist", template="panel.html", context=lambda request: {"items": ["A", "B"]}
    )
    assert "[A,B|A,B|A,B|watchlist]" in client.get("/").content.decode()


# --- stocks list -----------------------------------------------------------------------------


@pytest.fixture
def listing():
    _stock(
        "AAPL", "1.5", price="190", name="Apple Inc.", sector="Technology", market_cap=3 * 10**12
    )
    _stock(
        "MSFT", "-0.5", price="420", name="Microsoft", sector="Technology", market_cap=2 * 10**12
    )
    _stock("XOM", "2.5", price="110", name="Exxon Mobil", sector="Energy", market_cap=4 * 10**11)
    TickerFactory(symbol="NEWCO", name="New Co", sector="Energy", market_cap=None)
    TickerFactory(symbol="GONE", name="Gone Corp", active=False)


def _symbols(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<tr data-quote="([A-Z0-9.\-]+)"', html)


def test_stock_list_shows_the_active_universe(client, listing):
    response = client.get("/stocks/")
    assert response.status_code == 200
    assert _symbols(response) == ["AAPL", "MSFT", "NEWCO", "XOM"]
    text = _text(response)
    assert "$3.00T" in text and "Apple Inc." in text and "\u22120.50%" in text
    assert '<div class="table-wrap">' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "ms"}, ["MSFT"]),
        ({"q": "mobil"}, ["XOM"]),
        ({"sector": "Energy"}, ["NEWCO", "XOM"]),
        ({"q": "a", "sector": "Technology"}, ["AAPL"]),
        ({"sort": "-price"}, ["MSFT", "AAPL", "XOM", "NEWCO"]),  # no quote: last
        ({"sort": "price"}, ["XOM", "AAPL", "MSFT", "NEWCO"]),
        ({"sort": "-change_pct"}, ["XOM", "AAPL", "MSFT", "NEWCO"]),
        ({"sort": "-market_cap"}, ["AAPL", "MSFT", "XOM", "NEWCO"]),
        ({"sort": "name"}, ["AAPL", "XOM", "MSFT", "NEWCO"]),
        ({"sort": "sector"}, ["NEWCO", "XOM", "AAPL", "MSFT"]),
        ({"sort": "drop table"}, ["AAPL", "MSFT", "NEWCO", "XOM"]),  # unknown sort: by symbol
    ],
)
def test_stock_list_search_filter_and_sort(client, listing, query, expected):
    assert _symbols(client.get("/stocks/", query)) == expected


def test_sort_links_keep_the_filters_and_toggle_direction(client, listing):
    html = client.get(
        "/stocks/", {"q": "a", "sector": "Technology", "sort": "price"}
    ).content.decode()
    assert 'href="?q=a&amp;sector=Technology&amp;sort=-price"' in html
    assert 'aria-sort="ascending"' in html
    assert 'href="?q=a&amp;sector=Technology&amp;sort=market_cap"' in html
    assert '<option value="Energy">Energy</option>' in html


def test_stock_list_paginates_in_even_pages_of_at_most_50(client):
    """51 tickers are 26 + 25, never 50 + 1; every page fits the feed's one request (50)."""
    for i in range(51):
        TickerFactory(symbol=f"P{i:02d}")
    first = client.get("/stocks/")
    assert len(_symbols(first)) == 26
    assert "Page 1 of 2" in _text(first)
    second = client.get("/stocks/", {"page": 2})
    assert _symbols(second) == [f"P{i:02d}" for i in range(26, 51)]
    assert _symbols(client.get("/stocks/", {"page": "lots"})) == _symbols(first)


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(0, [0]), (1, [1]), (50, [50]), (51, [26, 25]), (100, [50, 50]), (101, [34, 34, 33])],
)
def test_balanced_paginator_sizes(count, sizes):
    from markets.views import balanced_paginator

    paginator = balanced_paginator(list(range(count)), 50)
    assert [len(paginator.page(n).object_list) for n in paginator.page_range] == sizes


def test_stock_list_no_match_and_empty_universe(client, listing):
    assert "No ticker matches “zzz”" in _text(client.get("/stocks/", {"q": "zzz"}))


def test_stock_list_empty_universe_says_how_to_get_data_to_staff_only(client, staff_user):
    assert "make run" not in _text(client.get("/stocks/"))
    client.force_login(staff_user)
    assert "make run" in _text(client.get("/stocks/"))


# --- stock page ------------------------------------------------------------------------------


@pytest.fixture
def aapl():
    ticker = _stock(
        "AAPL",
        "1.25",
        price="195.5",
        name="Apple Inc.",
        sector="Technology",
        industry="Consumer Electronics",
        market_cap=2_950_000_000_000,
    )
    start = dt.date(2024, 1, 1)
    for i in range(400):  # 400 calendar days: the 52-week window holds the last 365
        close = 100 + i
        DailyBarFactory(
            ticker=ticker,
            date=start + dt.timedelta(days=i),
            close=close,
            high=close + 5,
            low=close - 5,
            volume=1_000_000 if i < 370 else 2_000_000,
        )
    return ticker


def test_stock_page_shows_quote_stats_chart_and_slots(client, aapl):
    response = client.get("/stocks/aapl/")
    assert response.status_code == 200
    text = _text(response)
    html = response.content.decode()
    assert "AAPL" in text and "Apple Inc." in text
    assert "195.50" in text and "+1.25%" in text
    # Bars 2024-01-01 + 0..399; the latest is day 399; the year before it starts at day 35.
    assert "52-week range 130.00 \u2013 504.00" in text
    assert "Avg volume (30 days) 2.00M" in text
    # the latest session (day 399, 2025-02-03): open = close 499, high 504, low 494, the day
    # before closed at 498, 2M shares
    assert "Session of 2025-02-03" in text
    assert (
        "Open 499.00 High 504.00 Low 494.00 Close 499.00 Previous close 498.00 Volume 2.00M" in text
    )
    assert "Market cap $2.95T" in text  # money carries its currency, compact too
    assert "Sector Technology" in text and "Consumer Electronics" in text
    assert 'data-url="/stocks/AAPL/chart.json"' in html
    for label in ("1M", "3M", "6M", "YTD", "1Y", "5Y", "Max"):
        assert f'data-range="{label}"' in html
    assert "lightweight-charts.standalone.production.js" in html
    assert "/static/js/markets/stock_chart.js" in html
    for slot in ("AI score", "News", "Insider trades"):
        assert slot in text
    assert "Form 4" in text  # the insiders section says where its trades come from


def test_stock_page_without_bars_says_how_to_load_them(client):
    _stock("NEW", "1")
    response = client.get("/stocks/NEW/")
    text = _text(response)
    assert "No daily bars stored for NEW yet" in text
    assert "after the next market-data refresh" in text
    assert "import_prices" not in text  # the command is for staff only
    assert "stock_chart.js" not in response.content.decode()


def test_unknown_symbol_is_a_404_page_that_says_so(client):
    response = client.get("/stocks/nope/")
    assert response.status_code == 404
    text = _text(response)
    assert "no stock with the symbol NOPE in the Qunex universe" in text


def test_chart_data_is_every_bar_oldest_first(client, aapl):
    response = client.get("/stocks/AAPL/chart.json")
    assert response.status_code == 200
    assert "max-age=60" in response["Cache-Control"]
    body = response.json()
    assert body["columns"] == ["date", "open", "high", "low", "close", "volume"]
    assert len(body["bars"]) == 400
    assert body["bars"][0] == ["2024-01-01", 100.0, 105.0, 95.0, 100.0, 1_000_000]
    assert body["bars"][-1][0] == "2025-02-03"


def test_chart_data_is_split_adjusted_when_the_source_adjusted(client):
    ticker = TickerFactory(symbol="NVDA")
    DailyBarFactory(
        ticker=ticker, date=dt.date(2024, 6, 7), close=1200, high=1210, low=1190, adj_close=120
    )
    DailyBarFactory(ticker=ticker, date=dt.date(2024, 6, 10), close=121, high=122, low=119)
    bars = client.get("/stocks/NVDA/chart.json").json()["bars"]
    assert bars == [
        ["2024-06-07", 120.0, 121.0, 119.0, 120.0, 1_000_000],
        ["2024-06-10", 121.0, 122.0, 119.0, 121.0, 1_000_000],
    ]


def test_chart_data_of_unknown_symbol_is_404_json(client):
    response = client.get("/stocks/NOPE/chart.json")
    assert response.status_code == 404
    assert "NOPE" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/", "/stocks/", "/stocks/AAPL/", "/stocks/NOPE/"])
def test_pages_have_no_inline_script_or_style(client, aapl, path):
    html = client.get(path).content.decode()
    assert "<script>" not in html and "<style" not in html and "style=" not in html
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag
