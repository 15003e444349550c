"""The Bureau of Labor Statistics release schedule, published as iCalendar (keyless).

Each VEVENT is one release: SUMMARY "Consumer Price Index for October 2026", DTSTART with the
America/New_York zone (08:30 for most), a UID that stays the same when BLS moves the release.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.conf import settings
from icalendar import Calendar

from insights.calendar.importance import importance_for
from insights.calendar.providers.base import (
    CalendarError,
    CalendarSource,
    EventRecord,
    FetchResult,
)


class BLSSource(CalendarSource):
    name = "bls"

    def fetch(self, start: date, end: date) -> FetchResult:
        response = self._get(
            settings.CALENDAR_BLS_ICS_URL,
            headers={"User-Agent": settings.SEC_USER_AGENT, "Accept": "text/calendar"},
        )
        return parse_ics(response.content, start=start, end=end)


def parse_ics(body: bytes, *, start: date, end: date) -> FetchResult:
    """Events dated within [start, end]; a VEVENT without a usable UID, SUMMARY or DTSTART is
    skipped with its reason."""
    try:
        calendar = Calendar.from_ical(body)
    except ValueError as exc:
        raise CalendarError(f"bls: not an iCalendar document ({exc})", permanent=True) from exc
    result = FetchResult()
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID", "")).strip()
        summary = " ".join(str(event.get("SUMMARY", "")).split())
        try:
            when = event.decoded("DTSTART")
        except (KeyError, ValueError) as exc:
            result.skipped.append(f"bls {uid or '?'}: no usable DTSTART ({exc})")
            continue
        if not uid or not summary:
            result.skipped.append(f"bls {uid or '?'}: missing UID or SUMMARY")
            continue
        if isinstance(when, datetime):
            if when.tzinfo is None:
                result.skipped.append(f"bls {uid}: DTSTART has no time zone")
                continue
            scheduled, all_day = when.astimezone(UTC), False
        else:
            scheduled, all_day = datetime.combine(when, time(0), tzinfo=UTC), True
        local_day = when.date() if isinstance(when, datetime) else when
        if not start <= local_day <= end:
            continue
        name, _, period = summary.partition(" for ")
        result.records.append(
            EventRecord(
                source="bls",
                source_key=uid[:200],
                name=summary[:300] if not period else name.strip()[:300],
                period=period.strip()[:60],
                country="US",
                scheduled_at=scheduled,
                all_day=all_day,
                importance=importance_for(name),
                url=str(event.get("URL", ""))[:500],
            )
        )
    return result
