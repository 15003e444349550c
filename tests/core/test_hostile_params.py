"""Zero server errors whatever the query string (issue 20 §1).

Every GET page in the URLconf and every GET operation in `/api/schema/` is DISCOVERED (so a
page or filter added later is swept the day it is added), then each of its parameters is sent
the hostile values below, one at a time, as a signed-in user with data (the demo seed). No
answer may be a 5xx. The parameters of a page are the fields of the query form it declares
with `qunex.params.query_form` (every page that reads its query string does); those of an API
operation are the ones its schema documents plus DRF's `format`.

In-process (Django's test client), one user, throttles lifted: a few thousand requests.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver

from tests.insights.news.factories import AnalysisFactory

# Each a raw, already-encoded query value: a person's typo, a script's junk, an attack.
HOSTILE = [
    quote("9999-12-31"),  # date + 1 day overflows
    quote("10000-01-01"),  # past year 9999
    quote("²"),  # isdigit() says yes, int() says no
    quote("١٢"),  # Arabic-Indic digits: int() reads 12
    "99999999999999999999999",  # 23 digits: beyond any database integer
    "-99999999999999999999999",
    "NaN",
    "inf",
    "-1",
    "0",
    "1e309",
    "x" * 3000,
    "a%20" * 1500,  # 1,500 search words: one LIKE each
    "%E2%82",  # truncated UTF-8
    "%ZZ%",  # not percent-encoding at all
    "",  # empty
    quote("' OR 1=1 --"),
    quote("<script>alert(1)</script>"),
]
REPEATED = "{name}=1&{name}=2"  # one parameter, twice

SKIP_PREFIXES = ("admin/", "api/")  # the API is swept from its schema below
NOTHING_TO_SHOW = "/accounts/2fa/"  # allauth's 2FA pages: 404 until the user sets TOTP up


def _sweep(client, path: str, names: list[str]) -> list[str]:
    """Every hostile value of every name, alone; the 5xx answers described."""
    failures = []
    for name in names:
        queries = [f"{name}={value}" for value in HOSTILE] + [REPEATED.format(name=name)]
        for query in queries:
            response = client.get(f"{path}?{query}")
            if response.status_code >= 500:
                failures.append(f"{response.status_code} GET {path}?{query[:80]}")
    return failures


@pytest.fixture
def trader(seeded_demo, client, settings, monkeypatch):
    """The demo user (portfolio, watchlist, alerts, backtests, news, scores), signed in, with
    no throttle in the way of a few thousand requests."""
    from rest_framework.throttling import SimpleRateThrottle

    rates = {"anon": "1000000/min", "user": "1000000/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    user = get_user_model().objects.get(username="demo")
    AnalysisFactory()  # a News article with its analysis (the demo seed has no news)
    client.force_login(user)
    client.raise_request_exception = False  # a 500 is an answer to count, not a crash
    return user


def _patterns(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def _samples(user) -> dict[tuple[str, str], str]:
    """A real value for each (first path segment, path parameter) the pages take."""
    from backtests.models import Backtest
    from insights.news.models import Article
    from insights.scores.models import ModelVersion
    from markets.models import Ticker
    from portfolios.models import Portfolio, PriceAlert, Transaction, Watchlist, WatchlistItem

    def first(qs):
        row = qs.order_by("pk").first()
        return str(row.pk) if row else "1"

    portfolio = Portfolio.objects.filter(owner=user).order_by("pk").first()
    watchlist = Watchlist.objects.filter(owner=user).order_by("pk").first()
    return {
        ("stocks", "symbol"): Ticker.objects.filter(bars__isnull=False).first().symbol,
        ("portfolios", "pk"): str(portfolio.pk),
        ("portfolios", "tid"): first(Transaction.objects.filter(portfolio=portfolio)),
        ("watchlists", "pk"): str(watchlist.pk),
        ("watchlists", "iid"): first(WatchlistItem.objects.filter(watchlist=watchlist)),
        ("alerts", "pk"): first(PriceAlert.objects.filter(owner=user)),
        ("backtests", "pk"): first(Backtest.objects.filter(owner=user)),
        ("news", "pk"): first(Article.objects.all()),
        ("ai-scores", "pk"): first(ModelVersion.objects.all()),
    }


def _page_paths(user) -> list[tuple[str, list[str]]]:
    """(path, parameter names) of every GET page of the URLconf, path parameters filled."""
    samples = _samples(user)
    pages = []
    for route, pattern in _patterns(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES) or route.startswith("^") or "(?P" in route:
            continue  # allauth's regex routes take a one-time key: nothing to sweep
        converters = pattern.pattern.converters
        path = route
        for name in converters:
            head = route.split("/", 1)[0]
            assert (head, name) in samples, f"teach _samples a value for {route} <{name}>"
            path = path.replace(f"<{_converter_text(route, name)}>", samples[(head, name)])
        form = getattr(pattern.callback, "query_form", None)
        pages.append(("/" + path, list(form.base_fields) if form else []))
    return pages


def _converter_text(route: str, name: str) -> str:
    start = route.index(f":{name}>") if f":{name}>" in route else route.index(f"<{name}>")
    opening = route.rindex("<", 0, start + 1)
    return route[opening + 1 : route.index(">", opening)]


def _api_operations(client) -> list[tuple[str, list[str]]]:
    """(path, parameter names) of every GET operation of the schema, path parameters filled
    with a real value: a symbol with bars, or the first id its list returns."""
    schema = client.get("/api/schema/?format=json").json()
    samples = _samples(get_user_model().objects.get(username="demo"))
    operations = []
    for template, item in schema["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
        path = template
        for p in parameters:
            if p["in"] != "path":
                continue
            if p["name"] == "symbol":
                value = samples[("stocks", "symbol")]
            else:
                listing = client.get(template.split("{", 1)[0]).json()
                rows = listing.get("results", listing) if isinstance(listing, dict) else listing
                value = str(rows[0][p["name"]]) if rows else "1"
            path = path.replace("{" + p["name"] + "}", value)
        names = [p["name"] for p in parameters if p["in"] == "query"]
        operations.append((path, list(dict.fromkeys([*names, "format"]))))
    return operations


@pytest.mark.django_db
def test_no_page_answers_a_server_error_whatever_the_query(client, trader):
    failures: list[str] = []
    pages = _page_paths(trader)
    assert len(pages) > 30
    swept = 0
    for path, names in pages:
        baseline = client.get(path)
        if baseline.status_code == 405:
            continue  # POST-only: no GET page to sweep
        if not path.startswith(NOTHING_TO_SHOW):
            assert baseline.status_code < 400, f"{path}: {baseline.status_code} with no query"
        failures += _sweep(client, path, names)
        swept += len(names)
    assert swept > 30  # parameters of pages (news, insiders, calendar, stocks, ...)
    assert not failures, f"{len(failures)} server error(s):\n" + "\n".join(failures)


@pytest.mark.django_db
def test_no_api_list_answers_a_server_error_whatever_the_query(client, trader):
    failures: list[str] = []
    operations = _api_operations(client)
    assert len(operations) > 20
    for path, names in operations:
        assert client.get(path).status_code < 500, path
        failures += _sweep(client, path, names)
    assert not failures, f"{len(failures)} server error(s):\n" + "\n".join(failures)
