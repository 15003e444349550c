"""The economic calendar and the insider fallback take their Finnhub calls from Finnhub's
shared budget (markets.budget), the one the quote step, the news and the web feed use: they
wait only within their run's time, what the budget cannot give is deferred (the hourly
calendar step stays green), a 403 (Finnhub's free plan has no economic calendar) is
remembered for a day and a 429's Retry-After blocks Finnhub for everyone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from insights.calendar import services
from insights.insiders.providers.finnhub import FinnhubInsiders
from insights.insiders.providers.sec import SecError
from markets.budget import budget_for
from qunex.models import JobRun
from tests.markets import FakeVendor, Reply, fake_session, fixture

pytestmark = pytest.mark.django_db

CALENDAR = "https://finnhub.io/api/v1/calendar/economic"
INSIDERS = "https://finnhub.io/api/v1/stock/insider-transactions"


def _calendar(monkeypatch, settings, fake: FakeVendor) -> None:
    settings.FINNHUB_API_KEY = "fk"
    settings.FINNHUB_BASE_URL = "https://finnhub.io/api/v1"
    settings.CALENDAR_TIME_BUDGET_SECONDS = 0  # a test never waits: what does not fit defers
    session = fake_session(fake)
    monkeypatch.setitem(
        services.SOURCES, "finnhub", lambda: services.FinnhubEconomicSource(session=session)
    )


def _refresh_calendar() -> JobRun:
    call_command("refresh_calendar", "--sources", "finnhub", stdout=StringIO(), stderr=StringIO())
    return JobRun.objects.filter(command="refresh_calendar").latest("started_at")


@time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
def test_a_spent_finnhub_minute_defers_the_calendar_and_the_run_stays_green(
    monkeypatch, settings
) -> None:
    fake = FakeVendor()
    fake.add(CALENDAR, fixture("finnhub", "economic_calendar.json"))
    _calendar(monkeypatch, settings, fake)
    quotes = budget_for("finnhub", key="fk")  # the quote step took the minute's 60
    assert sum(quotes.acquire() for _ in range(60)) == 60

    run = _refresh_calendar()  # no CommandError: green

    assert fake.requests == []
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.counts["deferred"] == 1 and "failed" not in run.counts


@time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
def test_the_free_plans_403_is_asked_once_a_day_and_never_turns_the_run_red(
    monkeypatch, settings
) -> None:
    fake = FakeVendor()
    fake.add(CALENDAR, Reply(fixture("finnhub", "error_no_access.json"), status=403))
    _calendar(monkeypatch, settings, fake)

    first = _refresh_calendar()
    second = _refresh_calendar()

    assert len(fake.requests) == 1  # the second hourly run did not spend a call on it
    for run in (first, second):
        assert run.status == JobRun.Status.SUCCEEDED
        assert run.counts["not_entitled"] == 1 and "failed" not in run.counts
    assert budget_for("finnhub", key="fk").remaining()["minute"] == 59


@time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
def test_a_bad_key_still_fails_the_calendar_run(monkeypatch, settings) -> None:
    from django.core.management.base import CommandError

    fake = FakeVendor()
    fake.add(CALENDAR, Reply(fixture("finnhub", "error_invalid_key.json"), status=401))
    _calendar(monkeypatch, settings, fake)
    with pytest.raises(CommandError):
        _refresh_calendar()


def test_insider_calls_take_from_finnhubs_budget_and_defer_when_it_is_spent(settings) -> None:
    settings.FINNHUB_BASE_URL = "https://finnhub.io/api/v1"
    settings.INSIDER_FINNHUB_SECONDS = 0
    fake = FakeVendor()
    fake.add(INSIDERS, b'{"data": [], "symbol": "MSFT"}')
    source = FinnhubInsiders(api_key="fk", session=fake_session(fake))
    shared = budget_for("finnhub", key="fk")
    assert source.budget is shared
    assert sum(shared.acquire() for _ in range(59)) == 59

    source.filings(symbol="MSFT", start=date(2026, 1, 1), end=date(2026, 3, 1))  # the 60th
    with pytest.raises(SecError) as info:
        source.filings(symbol="TSLA", start=date(2026, 1, 1), end=date(2026, 3, 1))

    assert info.value.deferred and not info.value.permanent
    assert "TSLA left for a later run" in str(info.value)
    assert len(fake.requests) == 1


def test_an_insider_429_blocks_finnhub_for_its_retry_after(settings) -> None:
    settings.FINNHUB_BASE_URL = "https://finnhub.io/api/v1"
    fake = FakeVendor()
    fake.add(
        INSIDERS,
        Reply(
            fixture("finnhub", "error_api_limit.json"), status=429, headers={"Retry-After": "30"}
        ),
    )
    source = FinnhubInsiders(api_key="fk", session=fake_session(fake))
    with pytest.raises(SecError):
        source.filings(symbol="MSFT", start=date(2026, 1, 1), end=date(2026, 3, 1))
    assert 28 <= budget_for("finnhub", key="fk").remaining()["blocked_for"] <= 30
