"""refresh_calendar and the upsert: idempotent, a moved time updates, a failing source keeps
its events and fails the run."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from insights.calendar import services
from insights.calendar.models import EconomicEvent
from insights.calendar.providers import CalendarError, CalendarSource, EventRecord
from insights.calendar.providers.base import FetchResult
from insights.calendar.services import calendar_refresh, events_upsert
from qunex.models import JobRun
from tests.markets import FakeVendor, Reply, fake_session, fixture

pytestmark = pytest.mark.django_db

BLS_URL = "https://www.bls.gov/schedule/news_release/bls.ics"
FOMC_URL = "https://www.federalreserve.gov/monetarypolicy/fomccalendars.htm"
FINNHUB_URL = "https://finnhub.io/api/v1/calendar/economic"


def _record(**overrides) -> EventRecord:
    values = {
        "source": "bls",
        "source_key": "uid-1",
        "name": "Consumer Price Index",
        "country": "US",
        "scheduled_at": datetime(2026, 3, 11, 12, 30, tzinfo=UTC),
        "importance": 3,
        "period": "February 2026",
    }
    return EventRecord(**(values | overrides))


def test_upsert_is_idempotent_and_a_moved_time_updates_the_same_row():
    assert events_upsert(records=[_record()]) == (1, 0, 0)
    assert events_upsert(records=[_record()]) == (0, 0, 1)
    moved = _record(scheduled_at=datetime(2026, 3, 12, 12, 30, tzinfo=UTC))
    assert events_upsert(records=[moved]) == (0, 1, 0)
    event = EconomicEvent.objects.get()
    assert event.scheduled_at == datetime(2026, 3, 12, 12, 30, tzinfo=UTC)


class _Source(CalendarSource):
    def __init__(self, name, result=None, error=None):
        self.name = name
        self._result, self._error = result, error

    def fetch(self, start, end):
        if self._error:
            raise self._error
        return self._result


def test_a_failing_source_keeps_its_earlier_events():
    events_upsert(records=[_record(), _record(source="fomc", source_key="2026-03", name="FOMC")])
    report = calendar_refresh(
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        sources=[
            _Source("bls", error=CalendarError("bls: HTTP 503")),
            _Source(
                "fomc",
                FetchResult(
                    [_record(source="fomc", source_key="2026-03", name="FOMC", importance=2)]
                ),
            ),
        ],
    )
    assert [s.name for s in report.failed_sources] == ["bls"]
    assert EconomicEvent.objects.count() == 2
    assert EconomicEvent.objects.get(source="fomc").importance == 2


def _sources(monkeypatch, fake):
    session = fake_session(fake)
    monkeypatch.setitem(services.SOURCES, "bls", lambda: services.BLSSource(session=session))
    monkeypatch.setitem(services.SOURCES, "fomc", lambda: services.FOMCSource(session=session))
    monkeypatch.setitem(
        services.SOURCES,
        "finnhub",
        lambda: services.FinnhubEconomicSource(session=session),
    )


@time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
def test_command_end_to_end_then_idempotent(monkeypatch, settings, capsys):
    settings.FINNHUB_API_KEY = "k"
    fake = FakeVendor()
    fake.add(BLS_URL, fixture("bls", "release_calendar.ics"))
    fake.add(FOMC_URL, fixture("fed", "fomccalendars.html"))
    fake.add(FINNHUB_URL, fixture("finnhub", "economic_calendar.json"))
    _sources(monkeypatch, fake)
    call_command("refresh_calendar", "--days", "60", "--past-days", "7")
    out = capsys.readouterr().out.strip().splitlines()
    # BLS: 6, 11, 16 March; FOMC: 18 March, 1 May (May 1 - Mar 1 = 61 days: outside); Finnhub 3.
    assert EconomicEvent.objects.count() == 3 + 1 + 3
    assert out[-1].startswith("refresh_calendar: succeeded")
    # Skipped: the BLS event without a start, the unknown FOMC month, 3 bad Finnhub rows.
    assert "created 7" in out[-1] and "skipped 5" in out[-1]
    call_command("refresh_calendar", "--days", "60", "--past-days", "7")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "unchanged 7" in last and "created 0" in last
    assert EconomicEvent.objects.count() == 7
    assert JobRun.objects.filter(command="refresh_calendar").count() == 2


@time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
def test_command_fails_when_a_whole_source_fails_and_keeps_the_rest(monkeypatch, settings):
    settings.FINNHUB_API_KEY = ""
    fake = FakeVendor()
    fake.add(BLS_URL, Reply(b"down", status=503))
    fake.add(FOMC_URL, fixture("fed", "fomccalendars.html"))
    _sources(monkeypatch, fake)
    with pytest.raises(CommandError) as err:
        call_command("refresh_calendar")
    # The source is named once, and the summary is said once (no repeated last line).
    message = str(err.value)
    assert message.count("bls:") == 1 and "bls: HTTP 503" in message
    assert message.count("refresh_calendar: failed") == 1 and "\n" not in message
    assert EconomicEvent.objects.filter(source="fomc").count() == 1
    run = JobRun.objects.get(command="refresh_calendar")
    assert run.status == JobRun.Status.FAILED


def test_dry_run_writes_nothing(monkeypatch, settings):
    settings.FINNHUB_API_KEY = ""
    fake = FakeVendor()
    fake.add(BLS_URL, fixture("bls", "release_calendar.ics"))
    fake.add(FOMC_URL, fixture("fed", "fomccalendars.html"))
    _sources(monkeypatch, fake)
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        call_command("refresh_calendar", "--dry-run")
    assert EconomicEvent.objects.count() == 0


def test_unknown_source_is_refused():
    with pytest.raises(CommandError):
        call_command("refresh_calendar", "--sources", "bls,nope")
