"""The one query-parsing layer (qunex/params.py) and what the API states about it (issue 20).

§1: the ten addresses that answered 500 now answer a page that ignores the value with a
message naming the field, or an API 400 naming it. §2: an empty or repeated API parameter is
a 400 naming it, an over-long request line a 414 (JSON on /api/), a unique conflict a 409;
the schema says each of these (page bounds, minLength, 409, 414).
"""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings

from portfolios.models import Watchlist
from qunex import params
from tests.factories import TickerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    TickerFactory(symbol="AAPL")
    return client


# --- the fields --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["²", "١٢", "\uff11\uff12", "1.0", "1e3", "NaN", "inf", "0x10", "99999999999999999999999", " "],
)
def test_an_integer_is_ascii_digits_within_the_column_range(raw):
    form_field = params.IntegerParam()
    with pytest.raises(Exception, match="whole number"):
        form_field.clean(raw)
    assert params.IntegerParam().clean(" 12 ") == 12
    assert params.IdParam().clean(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(Exception, match="whole number"):
        params.IdParam().clean(str(2**63))


@pytest.mark.parametrize("raw", ["9999-12-31", "1899-12-31", "2200-01-01", "10000-01-01", "x"])
def test_a_date_stays_where_one_day_more_exists(raw):
    with pytest.raises(Exception, match="1900-01-01 to 2199-12-31"):
        params.DateParam().clean(raw)
    assert params.DateParam().clean("2199-12-31") == date(2199, 12, 31)


@pytest.mark.parametrize("raw", ["NaN", "inf", "-Infinity", "sNaN", "1e400", "abc"])
def test_a_decimal_is_finite(raw):
    with pytest.raises(Exception):  # noqa: B017 - Django's ValidationError, any message
        params.DecimalParam().clean(raw)


def test_a_boolean_is_true_or_false_never_junk_read_as_no():
    field = params.BooleanParam()
    assert (field.clean("TRUE"), field.clean("0"), field.clean("")) == (True, False, None)
    with pytest.raises(Exception, match="true or false"):
        field.clean("maybe")


# --- §1: the known 500s ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/news/?until=9999-12-31", "Ignored until: Enter a date from 1900-01-01 to 2199-12-31"),
        ("/news/?watchlist=%C2%B2", "Ignored watchlist: Enter a whole number from 1 to"),
        ("/news/?watchlist=99999999999999999999999", "Ignored watchlist: Enter a whole number"),
        ("/news/?page=0", "Ignored page: Enter a whole number from 1 to 100000."),
        ("/ai-scores/?min_score=%C2%B2", "Minimum score must be a whole number from 1 to 10."),
    ],
)
def test_a_page_ignores_a_bad_value_and_names_it(signed_in, path, shown):
    response = signed_in.get(path)
    assert response.status_code == 200
    assert shown in response.content.decode()


def test_a_page_without_its_own_error_list_says_so_in_a_message(signed_in):
    response = signed_in.get("/stocks/?page=%C2%B2&sort=price")
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["Ignored page ('²'): Enter a whole number from 1 to 100000."]
    assert response.context["sort"] == "price"  # the good value is kept


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/news/?until=9999-12-31", "until"),
        ("/api/economic-events/?date_to=9999-12-31", "date_to"),
        ("/api/news/?page=%C2%B2", "page"),
        ("/api/news/?page_size=%C2%B2", "page_size"),
        ("/api/transactions/?portfolio=99999999999999999999999", "portfolio"),
        ("/api/watchlist-items/?watchlist=-99999999999999999999999", "watchlist"),
        ("/api/tickers/?active=%ZZ%", "active"),
        ("/api/tickers/?page=100001", "page"),
        ("/api/portfolios/?page=0", "page"),
    ],
)
def test_the_api_answers_400_naming_the_parameter(signed_in, path, field):
    response = signed_in.get(path)
    assert response.status_code == 400, response.content
    assert field in response.json()


# --- §2: empty, repeated, too long, conflicts ---------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("watchlist=1&watchlist=2", "watchlist"),
        ("symbols=", "symbols"),
        ("min_value=", "min_value"),
        ("search=", "search"),
    ],
)
def test_an_empty_or_repeated_api_parameter_is_refused(signed_in, query, field):
    path = "/api/insider-trades/" if field == "min_value" else "/api/watchlist-items/"
    path = "/api/quotes/" if field == "symbols" else path
    response = signed_in.get(f"{path}?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_browsable_api_filter_form_may_leave_fields_empty(signed_in):
    """The browsable API's filter form submits every field: empty ones mean "not given"
    there (a repeat is still refused), while a client asking for JSON gets the 400."""
    query = "/api/insider-trades/?min_value=&ticker="
    html = signed_in.get(query, HTTP_ACCEPT="text/html")
    assert html.status_code == 200
    assert "Give a value" not in html.content.decode()
    assert signed_in.get(query, HTTP_ACCEPT="application/json").status_code == 400
    repeated = signed_in.get(
        "/api/watchlist-items/?watchlist=1&watchlist=2", HTTP_ACCEPT="text/html"
    )
    assert repeated.status_code == 400


def test_the_api_docs_load_their_start_up_script(client):
    """Swagger UI's page asks for `/api/docs/?script=` (an empty parameter, not an operation)."""
    response = client.get("/api/docs/?script=", HTTP_ACCEPT="*/*")
    assert response.status_code == 200
    assert "SwaggerUIBundle" in response.content.decode()


def test_a_page_keeps_one_value_of_a_repeated_parameter_and_says_so(signed_in):
    response = signed_in.get("/stocks/?sort=name&sort=price")
    assert response.status_code == 200
    assert response.context["sort"] == "symbol"
    assert "Give this parameter once" in str(next(iter(response.context["messages"])))


@override_settings(REQUEST_LINE_LIMIT=500)
def test_an_over_long_request_line_is_a_414(signed_in):
    response = signed_in.get("/api/tickers/?search=" + "a" * 500)
    assert response.status_code == 414
    assert response.json() == {
        "detail": "The address is longer than 500 characters; shorten the query."
    }
    page = signed_in.get("/stocks/?q=" + "a" * 500)
    assert page.status_code == 414 and b"shorten the query" in page.content
    assert signed_in.get("/api/tickers/?ordering=" + "a" * 400).status_code == 200


def test_the_django_limit_sits_below_gunicorns(settings):
    from pathlib import Path

    text = (Path(settings.BASE_DIR) / "gunicorn.conf.py").read_text()
    assert "limit_request_line = 8190" in text
    assert settings.REQUEST_LINE_LIMIT < 8190


def test_a_second_watchlist_of_the_same_name_is_a_409(signed_in, user):
    assert signed_in.post("/api/watchlists/", {"name": "Tech"}).status_code == 201
    response = signed_in.post("/api/watchlists/", {"name": "Tech"})
    assert response.status_code == 409
    assert response.json() == {"name": ["You already have a watchlist named 'Tech'."]}
    other = signed_in.post("/api/watchlists/", {"name": "Energy"}).json()
    response = signed_in.patch(
        f"/api/watchlists/{other['id']}/", {"name": "Tech"}, content_type="application/json"
    )
    assert response.status_code == 409
    assert Watchlist.objects.filter(owner=user).count() == 2
    # The page names the field as before (a form error, not a 409 page).
    page = signed_in.post("/watchlists/new/", {"name": "Tech"})
    assert page.status_code == 400 and b"already have a watchlist" in page.content


def test_the_schema_states_what_the_server_enforces(client):
    schema = client.get("/api/schema/?format=json").json()

    def parameter(path, name):
        operation = schema["paths"][path]["get"]
        return next(p for p in operation["parameters"] if p["name"] == name)

    for path in ("/api/tickers/", "/api/portfolios/", "/api/news/", "/api/backtests/"):
        page = parameter(path, "page")["schema"]
        assert (page["type"], page["minimum"], page["maximum"]) == ("integer", 1, params.PAGE_MAX)
    news_size = parameter("/api/news/", "page_size")["schema"]
    assert (news_size["minimum"], news_size["maximum"]) == (1, 200)
    assert parameter("/api/quotes/", "symbols")["schema"]["minLength"] == 1
    assert parameter("/api/insider-trades/", "min_value")["schema"]["minLength"] == 1
    assert "1900-01-01 to 2199-12-31" in parameter("/api/news/", "until")["description"]
    assert parameter("/api/watchlist-items/", "watchlist")["schema"]["maximum"] == 2**63 - 1
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert "414" in operation["responses"], (method, path)
    for path in ("/api/watchlists/", "/api/portfolios/", "/api/watchlist-items/"):
        assert "409" in schema["paths"][path]["post"]["responses"]
        assert "409" in schema["paths"][path + "{id}/"]["patch"]["responses"]
    for path, item in schema["paths"].items():
        for operation in item.values():
            if any(p["in"] == "query" for p in operation.get("parameters", [])):
                assert "more than once" in operation["responses"]["400"]["description"], path


def test_marking_notifications_read_with_junk_ids_is_no_server_error(signed_in):
    response = signed_in.post("/notifications/read/", {"id": ["²", "99999999999999999999999"]})
    assert response.status_code == 302


def test_a_search_of_a_thousand_words_is_a_400_not_a_database_error(signed_in):
    response = signed_in.get("/api/tickers/?search=" + "a%20" * 1000)
    assert response.status_code == 400
    assert list(response.json()) == ["search"]
    assert signed_in.get("/api/tickers/?search=aap").json()["count"] == 1
