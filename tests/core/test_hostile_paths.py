"""Zero server errors whatever the PATH parameters (tests/core/test_hostile_params.py sweeps
query strings; this sweeps what goes in the path: /stocks/<huge>/, /api/ai-scores/<weird>/
history/, /api/ai-models/<huge int>/, /api/portfolios/<junk>/ ...).

Every URL pattern of the URLconf that takes a path parameter (a converter such as <int:pk> or
<str:symbol>, or a DRF router's named regex group) is DISCOVERED, so a route added later is
swept the day it is added. Each parameter in turn gets the hostile values below (the others a
real value of the signed-in demo user), by GET and by POST. No answer may be a 5xx, and an id
that is no row of the user's (too large for the database, another user's) is a 404.

The admin is left out: it is staff-only and Django's own (its <path:object_id> is unquoted and
looked up by Django's ModelAdmin.get_object, which answers a redirect for a bad id).
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.urls import get_resolver

from tests.core.test_hostile_params import _patterns, _samples, trader  # noqa: F401 (fixture)

HOSTILE = [
    "99999999999999999999999",  # beyond any database integer
    "9223372036854775808",  # bigint + 1
    "2147483648",  # int + 1
    "0",
    "-1",
    "00000000000000000000001",  # leading zeros: 1
    quote("²"),  # isdigit() yes, int() no
    quote("١٢"),  # Arabic-Indic digits: regex \d matches, int() reads 12
    "NaN",
    "inf",
    "1e309",
    "x" * 3000,
    "A" * 300,  # a symbol far past the column's length
    "brk.b",  # lower case, a dot
    "%E2%82",  # truncated UTF-8
    "%00",  # NUL
    "%ZZ",  # not percent-encoding
    "..",
    quote("' OR 1=1 --", safe=""),
    quote("<script>alert(1)</script>", safe=""),
    quote("🚀", safe=""),
]
SKIP_PREFIXES = ("admin/",)
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")  # a named group of a regex route (no nested ())
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _routes() -> list[tuple[str, list[str]]]:
    """(route template with {name} slots, parameter names) of every route with a parameter."""
    routes = []
    for route, _pattern in _patterns(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES):
            continue
        template = route.replace("^", "").replace("$", "").replace("\\", "")
        template = _GROUP.sub(lambda m: "{" + m.group(1) + "}", template)
        template = _CONVERTER.sub(lambda m: "{" + m.group(1) + "}", template)
        names = re.findall(r"\{(\w+)\}", template)
        if names and "(" not in template and "[" not in template:
            routes.append((template, names))
    return routes


def _real_value(template: str, name: str, samples: dict[tuple[str, str], str]) -> str:
    head = template.split("/", 1)[0]
    if head == "api":  # api/<resource>/...: the page's sample of the same resource
        head = {"ai-scores": "stocks", "tickers": "stocks", "ai-models": "ai-scores"}.get(
            template.split("/")[1], template.split("/")[1]
        )
    if name == "symbol":
        return samples[("stocks", "symbol")]
    return samples.get((head, name), "1")


@pytest.mark.django_db
def test_no_route_answers_a_server_error_whatever_its_path_parameters(client, trader):  # noqa: F811
    samples = _samples(trader)
    routes = _routes()
    assert len(routes) > 40, routes  # pages, router details, score and model APIs, allauth
    templates = {t for t, _ in routes}
    for expected in (
        "stocks/{symbol}/",
        "api/ai-scores/{symbol}/history/",
        "api/ai-models/{pk}/",
        "ai-scores/models/{pk}/",
        "api/portfolios/{pk}/",
        "api/backtests/{pk}/result/",
    ):
        assert expected in templates, f"{expected} not discovered"
    failures = []
    for template, names in routes:
        real = {n: _real_value(template, n, samples) for n in names}
        for name in names:
            for value in HOSTILE:
                path = "/" + template.format(**{**real, name: value})
                for method in (client.get, client.post):
                    response = method(path)
                    if response.status_code >= 500:
                        failures.append(f"{response.status_code} {method.__name__} {path[:90]}")
    assert not failures, f"{len(failures)} server error(s):\n" + "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/ai-models/99999999999999999999999/",
        "/api/ai-models/9223372036854775808/",
        "/ai-scores/models/99999999999999999999999/",
        "/api/portfolios/99999999999999999999999/",
        "/api/portfolios/abc/",
        "/api/transactions/99999999999999999999999/",
        "/api/watchlists/99999999999999999999999/",
        "/api/alerts/99999999999999999999999/",
        "/api/backtests/99999999999999999999999/",
        "/api/backtests/99999999999999999999999/result/",
        "/portfolios/99999999999999999999999/",
        "/watchlists/99999999999999999999999/",
        "/backtests/99999999999999999999999/",
        "/news/99999999999999999999999/",
        "/api/news/99999999999999999999999/",
        "/stocks/" + "A" * 300 + "/",
        "/stocks/%E2%82/",
        "/api/tickers/" + "A" * 300 + "/",
        "/api/ai-scores/" + "A" * 300 + "/history/",
        "/api/ai-scores/%F0%9F%9A%80/history/",
        "/api/tickers/%F0%9F%9A%80/bars/",
    ],
)
def test_an_id_or_symbol_that_is_no_row_is_a_404(client, django_user_model, path):
    client.force_login(django_user_model.objects.create_user("h", password="pw-hostile-1"))
    assert client.get(path).status_code == 404
