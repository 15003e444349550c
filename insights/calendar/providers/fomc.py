"""Federal Open Market Committee meetings, from the Federal Reserve's meeting calendar page
(keyless HTML). The policy statement is released at 14:00 New York time on a meeting's last
day; a meeting marked * is followed by the Summary of Economic Projections."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from django.conf import settings

from insights.calendar.importance import HIGH
from insights.calendar.providers.base import CalendarSource, EventRecord, FetchResult

NEW_YORK = ZoneInfo("America/New_York")
STATEMENT_TIME = time(14, 0)
# The page writes months in full ("January") or abbreviated across two ("Apr/May").
MONTHS = {
    m[:3]: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_YEAR = re.compile(r"\b((?:19|20)\d{2}) FOMC Meetings\b")
_DAYS = re.compile(r"^(\d{1,2})(?:\s*-\s*(\d{1,2}))?\s*(\*)?")


class _MeetingParser(HTMLParser):
    """Collects (year, month text, date text) from the `fomc-meeting__month` and
    `fomc-meeting__date` cells under each "YYYY FOMC Meetings" heading."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.year: int | None = None
        self.rows: list[tuple[int | None, str, str]] = []
        self._cell: str | None = None
        self._depth = 0
        self._text: list[str] = []
        self._month = ""

    def handle_starttag(self, tag, attrs):
        if self._cell is not None:
            self._depth += 1
            return
        classes = (dict(attrs).get("class") or "").split()
        if "fomc-meeting__month" in classes:
            self._cell, self._depth, self._text = "month", 0, []
        elif "fomc-meeting__date" in classes:
            self._cell, self._depth, self._text = "date", 0, []

    def handle_endtag(self, tag):
        if self._cell is None:
            return
        if self._depth:
            self._depth -= 1
            return
        text = " ".join("".join(self._text).split())
        if self._cell == "month":
            self._month = text
        else:
            self.rows.append((self.year, self._month, text))
        self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._text.append(data)
            return
        found = _YEAR.search(data)
        if found:
            self.year = int(found.group(1))


class FOMCSource(CalendarSource):
    name = "fomc"

    def fetch(self, start: date, end: date) -> FetchResult:
        response = self._get(settings.CALENDAR_FOMC_URL)
        return parse_fomc_page(response.text, start=start, end=end)


def parse_fomc_page(html: str, *, start: date, end: date) -> FetchResult:
    parser = _MeetingParser()
    parser.feed(html)
    parser.close()
    result = FetchResult()
    for year, month_text, date_text in parser.rows:
        label = f"{year} {month_text} {date_text}"
        if "notation vote" in date_text.lower():
            continue  # a vote by notation is not a meeting with a statement at 14:00
        months = [
            MONTHS.get(m.strip().lower()[:3])
            if m.strip().isalpha() and len(m.strip()) <= 9
            else None
            for m in month_text.split("/")
        ]
        if year is None or not months or None in months:
            result.skipped.append(f"fomc {label}: unrecognised month")
            continue
        days = _DAYS.match(date_text)
        if not days:
            result.skipped.append(f"fomc {label}: unrecognised dates")
            continue
        first_day = int(days.group(1))
        last_day = int(days.group(2) or first_day)
        last_month = months[-1]
        try:
            first = date(year, months[0], first_day)
            last = date(year, last_month, last_day)
        except ValueError:
            result.skipped.append(f"fomc {label}: not a calendar date")
            continue
        if not start <= last <= end:
            continue
        projections = bool(days.group(3))
        unscheduled = "unscheduled" in date_text.lower()
        name = "FOMC rate decision" + (" and economic projections" if projections else "")
        if unscheduled:
            name = "FOMC unscheduled meeting"
        statement = datetime.combine(last, STATEMENT_TIME, tzinfo=NEW_YORK).astimezone(UTC)
        result.records.append(
            EventRecord(
                source="fomc",
                source_key=f"{year}-{months[0]:02d}" + ("-unscheduled" if unscheduled else ""),
                name=name,
                period=f"{first:%b} {first.day}\u2013{last.day}"
                if first.month == last.month
                else f"{first:%b} {first.day}\u2013{last:%b} {last.day}",
                country="US",
                scheduled_at=statement,
                importance=HIGH,
                url=settings.CALENDAR_FOMC_URL,
            )
        )
    return result
