"""Market-data API: tickers, bars, quotes; auth, filters, bad input, and the schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from tests.factories import DailyBarFactory, QuoteFactory, TickerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client, user):
    api_client.force_authenticate(user)
    return api_client


@pytest.fixture
def universe():
    aapl = TickerFactory(symbol="AAPL", name="Apple Inc.", sector="Technology")
    QuoteFactory(ticker=aapl, price=Decimal("190.12"), change_pct=Decimal("1.5"))
    TickerFactory(symbol="XOM", name="Exxon Mobil", sector="Energy")
    TickerFactory(symbol="SPY", name="SPDR S&P 500 ETF", sector="", asset_type="etf")
    TickerFactory(symbol="OLD", name="Delisted Corp", active=False)
    for day in range(10):
        DailyBarFactory(
            ticker=aapl, date=dt.date(2024, 1, 1) + dt.timedelta(days=day), close=100 + day
        )
    return aapl


@pytest.mark.parametrize(
    "path", ["/api/tickers/", "/api/tickers/AAPL/", "/api/tickers/AAPL/bars/", "/api/quotes/"]
)
def test_market_api_needs_authentication(api_client, universe, path):
    assert api_client.get(path).status_code == 401


def test_ticker_list_with_quote(api, universe):
    body = api.get("/api/tickers/").json()
    assert body["count"] == 4
    first = body["results"][0]
    assert first["symbol"] == "AAPL"
    assert first["quote"]["price"] == "190.120000"
    assert set(first) == {
        "symbol", "name", "exchange", "asset_type", "sector", "industry", "market_cap",
        "currency", "active", "is_demo", "quote",
    }  # fmt: skip
    assert next(r for r in body["results"] if r["symbol"] == "XOM")["quote"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"search": "app"}, ["AAPL"]),
        ({"search": "exxon"}, ["XOM"]),
        ({"sector": "energy"}, ["XOM"]),
        ({"asset_type": "etf"}, ["SPY"]),
        ({"active": "false"}, ["OLD"]),
        ({"ordering": "-symbol"}, ["XOM", "SPY", "OLD", "AAPL"]),
    ],
)
def test_ticker_search_filter_and_ordering(api, universe, query, expected):
    body = api.get("/api/tickers/", query).json()
    assert [r["symbol"] for r in body["results"]] == expected


def test_bad_asset_type_filter_names_the_field(api, universe):
    response = api.get("/api/tickers/", {"asset_type": "bond"})
    assert response.status_code == 400
    assert "asset_type" in response.json()


def test_ticker_detail_is_case_insensitive(api, universe):
    body = api.get("/api/tickers/aapl/").json()
    assert body["symbol"] == "AAPL"
    assert body["name"] == "Apple Inc."


def test_unknown_ticker_says_so(api, universe):
    response = api.get("/api/tickers/NOPE/")
    assert response.status_code == 404
    assert response.json()["detail"] == "Unknown symbol 'NOPE': it is not in the Qunex universe."


def test_bars_oldest_first_and_in_range(api, universe):
    body = api.get("/api/tickers/AAPL/bars/", {"start": "2024-01-03", "end": "2024-01-05"}).json()
    assert body["count"] == 3
    assert [b["date"] for b in body["results"]] == ["2024-01-03", "2024-01-04", "2024-01-05"]
    assert body["results"][0]["close"] == "102.000000"
    assert set(body["results"][0]) == {
        "date", "open", "high", "low", "close", "adj_close", "volume", "source",
    }  # fmt: skip


def test_bars_without_range_are_all_of_them_paginated(api, universe):
    body = api.get("/api/tickers/AAPL/bars/", {"page_size": 4}).json()
    assert body["count"] == 10
    assert len(body["results"]) == 4
    assert body["next"]


@pytest.mark.parametrize(
    ("query", "field", "text"),
    [
        ({"start": "2024-13-01"}, "start", "Date has wrong format"),
        ({"end": "yesterday"}, "end", "Date has wrong format"),
        ({"start": "2024-02-01", "end": "2024-01-01"}, "end", "is before start"),
    ],
)
def test_bad_bar_dates_are_400_naming_the_field(api, universe, query, field, text):
    response = api.get("/api/tickers/AAPL/bars/", query)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert text in body[field][0]


def test_bars_of_unknown_ticker_say_so(api, universe):
    response = api.get("/api/tickers/NOPE/bars/")
    assert response.status_code == 404
    assert "NOPE" in response.json()["detail"]


def test_quotes_list_and_symbol_filter(api, universe):
    QuoteFactory(ticker=TickerFactory(symbol="MSFT"), price=Decimal("420"))
    body = api.get("/api/quotes/").json()
    assert [q["symbol"] for q in body["results"]] == ["AAPL", "MSFT"]
    only = api.get("/api/quotes/", {"symbols": "msft"}).json()
    assert [(q["symbol"], q["price"]) for q in only["results"]] == [("MSFT", "420.000000")]
    assert set(only["results"][0]) == {
        "symbol", "price", "change", "change_pct", "volume", "as_of", "source", "is_demo",
    }  # fmt: skip


def test_quotes_bad_symbols_is_a_400_naming_the_field(api, universe):
    response = api.get("/api/quotes/", {"symbols": "A!"})
    assert response.status_code == 400
    assert "Not a ticker symbol" in response.json()["symbols"][0]


def test_token_auth_reads_the_api(api_client, user, universe):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/tickers/AAPL/").status_code == 200


def test_schema_documents_the_market_endpoints_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    for path in (
        "/api/tickers/:",
        "/api/tickers/{symbol}/:",
        "/api/tickers/{symbol}/bars/:",
        "/api/quotes/:",
        "/api/market-data:",
    ):
        assert path in schema
    assert "/api/market-data/:" not in schema  # the slash alias is not a second operation
    assert "If-None-Match" in schema


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("asset_type=", "asset_type"),
        ("active=x", "active"),
        ("is_demo=-1", "is_demo"),
        ("sector=", "sector"),
        ("page=", "page"),
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=false&page=", "page"),
    ],
)
def test_junk_and_empty_filters_are_400_naming_the_parameter(api, universe, query, field):
    response = api.get(f"/api/tickers/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_good_booleans_and_pages_still_work(api, universe):
    assert api.get("/api/tickers/?active=true&is_demo=false&page=1").status_code == 200
    assert api.get("/api/tickers/AAPL/bars/?page=").status_code == 400
