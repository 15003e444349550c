"""NUL and other control characters in a search or filter never reach a query (issue 14 §3).

PostgreSQL refuses NUL in text (a 500 from the first query it reaches), and no search needs a
control character, so `qunex.middleware.ControlCharacterGuardMiddleware` answers 400 naming
the parameter before any view or database work: JSON on /api/, a short page elsewhere.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import TickerFactory

pytestmark = pytest.mark.django_db

CONTROL = ["\x00", "\x01", "\x08", "\t", "\n", "\x1b", "\x1f", "\x7f"]

# Every search box and filter the pages and the API offer (pages: signed in).
SEARCHES = [
    ("/stocks/", "q"),
    ("/stocks/", "sector"),
    ("/stocks/", "sort"),
    ("/stocks/", "page"),
    ("/backtests/", "status"),
    ("/backtests/new/", "ticker"),
    ("/portfolios/", "q"),
    ("/watchlists/", "q"),
    ("/alerts/", "q"),
    ("/api/tickers/", "search"),
    ("/api/tickers/", "sector"),
    ("/api/tickers/", "asset_type"),
    ("/api/tickers/", "active"),
    ("/api/tickers/", "ordering"),
    ("/api/tickers/AAPL/bars/", "start"),
    ("/api/tickers/AAPL/bars/", "end"),
    ("/api/quotes/", "symbols"),
    ("/api/market-data", "symbols"),
    ("/api/backtests/", "status"),
    ("/api/backtests/", "search"),
    ("/api/portfolios/", "search"),
    ("/api/transactions/", "search"),
    ("/api/watchlists/", "search"),
]


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    TickerFactory(symbol="AAPL")
    return client


@pytest.mark.parametrize(("path", "param"), SEARCHES)
@pytest.mark.parametrize("char", ["\x00", "\x1f"])
def test_every_search_and_filter_refuses_control_characters(signed_in, path, param, char):
    response = signed_in.get(path, {param: f"AA{char}PL"})
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json() == {
            param: [f"The query parameter '{param}' holds a control character (e.g. NUL)."]
        }
    else:
        assert "That address cannot be read" in response.content.decode()
        assert f"The query parameter &#x27;{param}&#x27;" in response.content.decode()


@pytest.mark.parametrize("char", CONTROL)
def test_the_stock_search_refuses_every_control_character(client, char):
    response = client.get("/stocks/", {"q": char})
    assert response.status_code == 400


def test_raw_and_percent_encoded_nul_and_names_are_caught(client):
    assert client.get("/stocks/?q=%00").status_code == 400
    assert client.get("/api/tickers/?search=%00").status_code == 400
    assert client.get("/stocks/?q%00=x").status_code == 400
    assert client.get("/stocks/%00/").status_code == 400  # a symbol in the path


def test_printable_searches_still_work(signed_in):
    response = signed_in.get("/stocks/", {"q": "AAPL ünïcode ok"})
    assert response.status_code == 200
    assert signed_in.get("/api/tickers/", {"search": "AA"}).json()["count"] == 1


def _plain_routes(resolver: URLResolver, prefix: str = "") -> list[str]:
    routes = []
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += _plain_routes(entry, prefix + pattern)
        elif isinstance(entry, URLPattern) and "<" not in pattern and "(" not in pattern:
            routes.append("/" + (prefix + pattern).lstrip("^").rstrip("$"))
    return routes


def test_no_route_lets_a_nul_through(signed_in):
    """The safety net covers every route, including ones added later (insights, admin)."""
    routes = [r for r in _plain_routes(get_resolver()) if "\\" not in r]
    assert len(routes) > 20
    for route in routes:
        response = signed_in.get(route, {"q": "\x00", "search": "x"})
        assert response.status_code == 400, route
