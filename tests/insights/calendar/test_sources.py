"""Calendar adapters against recorded-style bodies served through the real session."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from insights.calendar.importance import HIGH, LOW, MEDIUM, importance_for
from insights.calendar.providers import (
    BLSSource,
    CalendarError,
    FinnhubEconomicSource,
    FOMCSource,
)
from insights.calendar.providers.bls import parse_ics
from insights.calendar.providers.finnhub import parse_economic_calendar
from insights.calendar.providers.fomc import parse_fomc_page
from tests.markets import FakeVendor, Reply, fake_session, fixture

BLS_URL = "https://www.bls.gov/schedule/news_release/bls.ics"
FOMC_URL = "https://www.federalreserve.gov/monetarypolicy/fomccalendars.htm"
FINNHUB_URL = "https://finnhub.io/api/v1/calendar/economic"
YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def test_bls_ics_times_are_new_york_local_across_dst():
    result = parse_ics(fixture("bls", "release_calendar.ics"), start=YEAR[0], end=YEAR[1])
    by_key = {r.source_key: r for r in result.records}
    # 6 March 2026 is before the switch to daylight time (8 March): 08:30 EST = 13:30 UTC.
    assert by_key["bls-empsit-2026-03@bls.gov"].scheduled_at == datetime(
        2026, 3, 6, 13, 30, tzinfo=UTC
    )
    # 11 March is after it: 08:30 EDT = 12:30 UTC.
    assert by_key["bls-cpi-2026-03@bls.gov"].scheduled_at == datetime(
        2026, 3, 11, 12, 30, tzinfo=UTC
    )
    # 6 November is after the switch back (1 November): 13:30 UTC again.
    assert by_key["bls-empsit-2026-11@bls.gov"].scheduled_at == datetime(
        2026, 11, 6, 13, 30, tzinfo=UTC
    )
    cpi = by_key["bls-cpi-2026-03@bls.gov"]
    assert (cpi.name, cpi.period, cpi.importance) == ("Consumer Price Index", "February 2026", HIGH)
    assert by_key["bls-laus-2026-03@bls.gov"].importance == LOW
    all_day = by_key["bls-cex-2026-09@bls.gov"]
    assert all_day.all_day and all_day.scheduled_at == datetime(2026, 9, 10, tzinfo=UTC)
    assert len(result.records) == 5
    assert result.skipped == ["bls bls-broken-1@bls.gov: no usable DTSTART ('DTSTART')"] or (
        len(result.skipped) == 1 and "bls-broken-1" in result.skipped[0]
    )


def test_bls_window_filters_by_local_date():
    result = parse_ics(
        fixture("bls", "release_calendar.ics"), start=date(2026, 3, 7), end=date(2026, 3, 31)
    )
    assert {r.source_key for r in result.records} == {
        "bls-cpi-2026-03@bls.gov",
        "bls-laus-2026-03@bls.gov",
    }


def test_bls_garbage_is_a_permanent_error():
    with pytest.raises(CalendarError) as err:
        parse_ics(b"<html>Access denied</html>", start=YEAR[0], end=YEAR[1])
    assert err.value.permanent


def test_bls_source_sends_a_declared_user_agent(settings):
    settings.SEC_USER_AGENT = "Qunex Tests ops@example.com"
    fake = FakeVendor()
    fake.add(BLS_URL, fixture("bls", "release_calendar.ics"))
    result = BLSSource(session=fake_session(fake)).fetch(*YEAR)
    assert len(result.records) == 5
    assert fake.requests[0].headers["User-Agent"] == "Qunex Tests ops@example.com"


def test_fomc_page_meetings_with_statement_at_2pm_new_york():
    result = parse_fomc_page(
        fixture("fed", "fomccalendars.html").decode(), start=YEAR[0], end=YEAR[1]
    )
    got = {r.source_key: r for r in result.records}
    assert set(got) == {"2026-01", "2026-03", "2026-04", "2026-12"}
    # 28 January (EST): 14:00 = 19:00 UTC; 18 March (EDT): 14:00 = 18:00 UTC.
    assert got["2026-01"].scheduled_at == datetime(2026, 1, 28, 19, 0, tzinfo=UTC)
    assert got["2026-03"].scheduled_at == datetime(2026, 3, 18, 18, 0, tzinfo=UTC)
    assert got["2026-03"].name == "FOMC rate decision and economic projections"
    assert got["2026-01"].name == "FOMC rate decision"
    # A meeting across two months ends on its second month's day.
    assert got["2026-04"].scheduled_at == datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
    assert got["2026-04"].period == "Apr 28\u2013May 1"
    assert all(r.importance == HIGH for r in result.records)
    # The notation vote is not a meeting; the unknown month is skipped and counted.
    assert len(result.skipped) == 1 and "Smarch" in result.skipped[0]


def test_fomc_source_over_the_session():
    fake = FakeVendor()
    fake.add(FOMC_URL, fixture("fed", "fomccalendars.html"))
    result = FOMCSource(session=fake_session(fake)).fetch(date(2025, 1, 1), date(2025, 12, 31))
    assert [r.source_key for r in result.records] == ["2025-12"]


def test_finnhub_rows_with_values_and_skips():
    body = json.loads(fixture("finnhub", "economic_calendar.json"), parse_float=Decimal)
    result = parse_economic_calendar(body)
    assert len(result.records) == 3
    cpi = result.records[0]
    assert cpi.source_key == "US|cpi yoy|2026-03-11"
    assert (cpi.actual, cpi.forecast, cpi.previous, cpi.unit) == (
        Decimal("3.1"),
        Decimal("2.9"),
        Decimal("3.0"),
        "%",
    )
    assert cpi.scheduled_at == datetime(2026, 3, 11, 12, 30, tzinfo=UTC)
    assert cpi.importance == HIGH
    assert result.records[1].actual is None and result.records[1].importance == MEDIUM
    assert result.records[2].actual == Decimal("-0.2")
    assert len(result.skipped) == 3


def test_finnhub_needs_its_key_and_reads_it_from_a_header():
    with pytest.raises(CalendarError) as err:
        FinnhubEconomicSource(api_key="", session=fake_session(FakeVendor())).fetch(*YEAR)
    assert err.value.permanent
    fake = FakeVendor()
    fake.add(FINNHUB_URL, fixture("finnhub", "economic_calendar.json"))
    result = FinnhubEconomicSource(api_key="k", session=fake_session(fake)).fetch(*YEAR)
    assert len(result.records) == 3
    assert fake.requests[0].headers["X-Finnhub-Token"] == "k"
    assert fake.query() == {"from": "2026-01-01", "to": "2026-12-31"}


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [
        (Reply(b'{"error": "Invalid API key"}', status=401), True),
        (Reply(b"not json at all"), False),
        (Reply(b'{"economicCalendar": "nope"}'), False),
        (Reply(b"busy", status=503), False),
    ],
)
def test_finnhub_errors(reply, permanent):
    fake = FakeVendor()
    fake.add(FINNHUB_URL, reply)
    with pytest.raises(CalendarError) as err:
        FinnhubEconomicSource(api_key="k", session=fake_session(fake)).fetch(*YEAR)
    assert err.value.permanent is permanent


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("Employment Situation", HIGH),
        ("Consumer Price Index", HIGH),
        ("FOMC rate decision", HIGH),
        ("Job Openings and Labor Turnover Survey", MEDIUM),
        ("State Employment and Unemployment", LOW),
        ("County Employment and Wages", LOW),
        ("Consumer Expenditures", LOW),
    ],
)
def test_importance_rules(name, level):
    assert importance_for(name) == level
