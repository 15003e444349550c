"""Demo economic events for a laptop without a Finnhub key (the one source with forecasts and
actuals): recent US releases with actual, forecast and previous (so the surprise shows) and
the next two weeks' releases, the FOMC decision among them. Made-up figures at the agencies'
usual release times (8:30, 10:00, 14:00 New York), on NYSE sessions around today.

Stored through `events_upsert` with `source="demo"`, keyed on a fixed name per event, so
seeding again moves the same rows to dates around the new day instead of adding rows. The
page shows "Demo data" on each. They sit next to the real BLS and FOMC schedules, and
`events_demo_release` deletes them once a source with actual figures (Finnhub) stores events
(refresh_calendar).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from insights.calendar.importance import importance_for
from insights.calendar.models import EconomicEvent
from insights.calendar.providers import EventRecord
from insights.calendar.services import DEMO_SOURCE, events_upsert
from markets import calendar as market_calendar

NEW_YORK = ZoneInfo("America/New_York")

# (key, sessions from today: negative = past, name, period, hh:mm New York, actual, forecast,
#  previous, unit). Past events have an actual; upcoming ones only forecast and previous.
# fmt: off
EVENTS: tuple[tuple[str, int, str, str, str, str | None, str | None, str | None, str], ...] = (
    ("retail-sales-past", -10, "Retail sales (MoM)", "last month", "08:30", "0.6", "0.4", "0.1", "%"),
    ("cpi-yoy-past", -8, "Consumer price index (YoY)", "last month", "08:30", "2.9", "2.7", "2.8", "%"),
    ("core-cpi-mom-past", -8, "Core CPI (MoM)", "last month", "08:30", "0.3", "0.2", "0.3", "%"),
    ("ism-manufacturing-past", -4, "ISM manufacturing PMI", "last month", "10:00", "49.3", "48.8", "48.4", ""),
    ("payrolls-past", -2, "Nonfarm payrolls", "last month", "08:30", "143", "175", "256", "K"),
    ("unemployment-past", -2, "Unemployment rate", "last month", "08:30", "4.2", "4.1", "4.1", "%"),
    ("claims-past", -1, "Initial jobless claims", "last week", "08:30", "219", "225", "224", "K"),
    ("ppi-next", 1, "Producer price index (MoM)", "this month", "08:30", None, "0.2", "0.4", "%"),
    ("retail-sales-next", 2, "Retail sales (MoM)", "this month", "08:30", None, "0.3", "0.6", "%"),
    ("claims-next", 3, "Initial jobless claims", "this week", "08:30", None, "222", "219", "K"),
    ("sentiment-next", 4, "Consumer sentiment (University of Michigan)", "preliminary", "10:00", None, "71.5", "71.8", ""),
    ("cpi-yoy-next", 6, "Consumer price index (YoY)", "this month", "08:30", None, "2.8", "2.9", "%"),
    ("fomc-next", 7, "FOMC interest rate decision (upper bound)", "", "14:00", None, "4.25", "4.50", "%"),
    ("gdp-next", 8, "GDP (QoQ, annualised, third estimate)", "last quarter", "08:30", None, "2.4", "2.8", "%"),
    ("pce-next", 9, "PCE price index (YoY)", "this month", "08:30", None, "2.5", "2.6", "%"),
)
# fmt: on


def _dec(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def demo_records(*, now: datetime) -> list[EventRecord]:
    today = now.astimezone(NEW_YORK).date()
    sessions = market_calendar.sessions(today - timedelta(days=40), today + timedelta(days=40))
    past = [d for d in sessions if d < today]
    ahead = [d for d in sessions if d > today]
    records = []
    for key, offset, name, period, hhmm, actual, forecast, previous, unit in EVENTS:
        day = past[offset] if offset < 0 else ahead[offset - 1]
        local = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=NEW_YORK)
        records.append(
            EventRecord(
                source=DEMO_SOURCE,
                source_key=key,
                name=name,
                country="US",
                scheduled_at=local.astimezone(ZoneInfo("UTC")),
                importance=importance_for(name),
                period=period,
                actual=_dec(actual),
                forecast=_dec(forecast),
                previous=_dec(previous),
                unit=unit,
            )
        )
    return records


def seed(*, now: datetime) -> str:
    if settings.FINNHUB_API_KEY:
        return "Calendar: FINNHUB_API_KEY is set, so no demo events (refresh_calendar loads them)."
    if EconomicEvent.objects.filter(source="finnhub").exists():
        return "Calendar: Finnhub events are stored, so no demo events."
    created, updated, unchanged = events_upsert(records=demo_records(now=now))
    return (
        f"Calendar: {created} demo events added, {updated} moved to dates around today, "
        f"{unchanged} unchanged."
    )
