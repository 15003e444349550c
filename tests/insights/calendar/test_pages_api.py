"""The calendar page, the dashboard panel and the API: user time zones, the surprise, filters,
bad input and query budgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Profile
from insights.calendar.models import EconomicEvent

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _event(i: int = 0, **fields) -> EconomicEvent:
    values = {
        "source": "bls",
        "source_key": f"uid-{i}",
        "name": f"Release {i}",
        "country": "US",
        "scheduled_at": NOW + timedelta(hours=1 + i),
        "importance": 2,
    }
    return EconomicEvent.objects.create(**(values | fields))


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_times_show_in_the_users_zone_on_both_sides_of_dst(auth_client, user):
    Profile.objects.update_or_create(user=user, defaults={"timezone": "Europe/Berlin"})
    # 13:30 UTC on 6 March (New York 08:30 EST) is 14:30 in Berlin (CET);
    # 12:30 UTC on 11 March (New York 08:30 EDT, Berlin still CET) is 13:30 in Berlin.
    _event(1, name="Employment Situation", scheduled_at=datetime(2026, 3, 6, 13, 30, tzinfo=UTC))
    _event(2, name="Consumer Price Index", scheduled_at=datetime(2026, 3, 11, 12, 30, tzinfo=UTC))
    body = auth_client.get("/calendar/").content.decode()
    assert ">14:30<" in body and ">13:30<" in body
    assert "Friday 6 March 2026" in body and "Wednesday 11 March 2026" in body
    assert "Europe/Berlin" in body


def test_surprise_stands_out_with_sign_and_colour(client):
    _event(
        1,
        actual=Decimal("3.1"),
        forecast=Decimal("2.9"),
        previous=Decimal("3.0"),
        unit="%",
        scheduled_at=NOW - timedelta(hours=2),
    )
    _event(
        2,
        actual=Decimal("-0.2"),
        forecast=Decimal("0.1"),
        unit="%",
        scheduled_at=NOW - timedelta(hours=3),
    )
    body = client.get("/calendar/?range=past").content.decode()
    assert "3.1%" in body and "2.9%" in body and "3%" in body
    assert 'class="surprise up"' in body and "+0.2%" in body
    assert 'class="surprise down"' in body and "\u22120.3%" in body and "\u22120.2%" in body


def test_ranges_and_filters(client):
    _event(1, name="Upcoming US", country="US", importance=3)
    _event(2, name="Upcoming DE low", country="DE", importance=1)
    _event(3, name="Long past", scheduled_at=NOW - timedelta(days=3))
    _event(4, name="Next week", scheduled_at=NOW + timedelta(days=8))
    up = client.get("/calendar/").content.decode()
    assert "Upcoming US" in up and "Next week" in up and "Long past" not in up
    week = client.get("/calendar/?range=week").content.decode()
    assert "Upcoming US" in week and "Next week" not in week
    past = client.get("/calendar/?range=past").content.decode()
    assert "Long past" in past and "Upcoming US" not in past
    de = client.get("/calendar/?country=de").content.decode()
    assert "Upcoming DE low" in de and "Upcoming US" not in de
    high = client.get("/calendar/?importance=3").content.decode()
    assert "Upcoming US" in high and "Upcoming DE low" not in high


@pytest.mark.parametrize(
    "query",
    ["?range=%00", "?country=%00US", "?importance=9", "?importance=x", "?page=%00", "?range=soon"],
)
def test_bad_filters_answer_400_or_a_page_never_500(client, query):
    _event(1)
    response = client.get("/calendar/" + query)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert b"Economic calendar" in response.content


def test_empty_state_says_when_events_come_and_only_staff_how(client, staff_user):
    body = client.get("/calendar/").content.decode()
    assert "No events coming up" in body and "every hour" in body
    assert "refresh_calendar" not in body and "FINNHUB_API_KEY" not in body
    client.force_login(staff_user)
    assert "refresh_calendar" in client.get("/calendar/").content.decode()


def test_dashboard_panel_lists_upcoming_important_events(client):
    _event(1, name="CPI release", importance=3)
    _event(2, name="Minor series", importance=1)
    body = client.get("/").content.decode()
    assert "Upcoming events" in body and "CPI release" in body and "Minor series" not in body
    assert "Coming soon" not in body.split("Upcoming events")[1][:200]


def _count(client, path):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_page_and_api_query_count_is_the_same_for_1_and_50_events(auth_client, api_client, user):
    api_client.force_authenticate(user)
    _event(0)
    auth_client.get("/calendar/")  # the first request of a session also stores the session
    api_client.get("/api/economic-events/")
    one_page, one_api = (
        _count(auth_client, "/calendar/"),
        _count(api_client, "/api/economic-events/"),
    )
    for i in range(1, 50):
        _event(i, scheduled_at=NOW + timedelta(hours=1 + i * 7))
    # Page: session, user, profile time zone, count, events, countries.
    assert one_page <= 6
    assert _count(auth_client, "/calendar/") == one_page
    assert _count(api_client, "/api/economic-events/") == one_api


def test_api_lists_with_filters_and_decimal_strings(api_client, user):
    api_client.force_authenticate(user)
    _event(1, name="CPI", actual=Decimal("3.1"), forecast=Decimal("2.9"), unit="%", importance=3)
    _event(2, name="Minor", country="DE", importance=1)
    data = api_client.get("/api/economic-events/?importance=high").json()
    assert [e["name"] for e in data["results"]] == ["CPI"]
    cpi = data["results"][0]
    assert cpi["importance"] == "high" and cpi["actual"] == "3.100000"
    assert cpi["surprise"] == "0.200000" and cpi["scheduled_at"].endswith("Z")
    de = api_client.get("/api/economic-events/?country=de").json()
    assert [e["name"] for e in de["results"]] == ["Minor"]
    dated = api_client.get("/api/economic-events/?date_from=2026-03-02&date_to=2026-03-02").json()
    assert {e["name"] for e in dated["results"]} == {"CPI", "Minor"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("importance=urgent", "importance"),
        ("country=USA", "country"),
        ("country=%00U", "country"),
        ("date_from=2026-13-01", "date_from"),
        ("date_from=", "date_from"),
        ("date_from=2026-03-05&date_to=2026-03-01", "date_to"),
        ("range=past&date_from=2026-03-01", "range"),
        ("page=0", "page"),
        ("page=", "page"),
    ],
)
def test_api_rejects_bad_filters_naming_the_field(api_client, user, query, field):
    api_client.force_authenticate(user)
    response = api_client.get("/api/economic-events/?" + query)
    assert response.status_code == 400
    assert field in response.json()


def test_api_needs_authentication_and_404s_unknown(api_client, user):
    assert api_client.get("/api/economic-events/").status_code in (401, 403)
    api_client.force_authenticate(user)
    assert api_client.get("/api/economic-events/999/").status_code == 404
