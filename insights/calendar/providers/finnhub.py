"""Finnhub's economic calendar (`/calendar/economic`, needs FINNHUB_API_KEY): every country's
releases with actual, estimate (forecast) and previous values. Times are UTC.

The call is taken from Finnhub's shared budget (markets.budget, with the quote step, the news
and the web feed), waiting up to the run's deadline, on the vendors' session without retries
of its own. Finnhub's free plan does not include this endpoint (HTTP 403): that is remembered
for a day, so an hourly run asks at most once a day and counts it "not entitled"."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from django.conf import settings

from insights.calendar.providers.base import (
    CalendarError,
    CalendarSource,
    EventRecord,
    FetchResult,
)
from markets.budget import budget_for, note_refusal, retry_after_seconds, spend_call

IMPACT = {"low": 1, "medium": 2, "high": 3}
CAPABILITY = "economic_calendar"


class FinnhubEconomicSource(CalendarSource):
    name = "finnhub"

    def __init__(
        self, *, api_key: str | None = None, session: requests.Session | None = None
    ) -> None:
        if session is None:
            from markets.vendors import market_session

            session = market_session()
        super().__init__(session=session)
        self.api_key = settings.FINNHUB_API_KEY if api_key is None else api_key

    def fetch(self, start: date, end: date) -> FetchResult:
        if not self.api_key:
            raise CalendarError("finnhub: FINNHUB_API_KEY is not set", permanent=True)
        budget = budget_for("finnhub", key=self.api_key)
        why = spend_call(budget, capability=CAPABILITY)
        if why is not None:
            entitled = not why.startswith("not entitled")
            raise CalendarError(
                f"finnhub: {why}",
                permanent=not entitled,
                deferred=entitled,
                not_entitled=not entitled,
            )
        try:
            response = self._get(
                f"{settings.FINNHUB_BASE_URL.rstrip('/')}/calendar/economic",
                params={"from": start.isoformat(), "to": end.isoformat()},
                headers={"X-Finnhub-Token": self.api_key},
            )
        except CalendarError as exc:
            http = exc.__cause__ if isinstance(exc.__cause__, requests.HTTPError) else None
            reply = http.response if http is not None else None
            if reply is not None and note_refusal(
                budget,
                reply.status_code,
                retry_after=retry_after_seconds(reply.headers.get("Retry-After")),
                capability=CAPABILITY,
            ):
                raise CalendarError(
                    f"finnhub: HTTP 403: this key's plan has no {CAPABILITY} (asked again "
                    "tomorrow)",
                    permanent=True,
                    not_entitled=True,
                ) from None
            raise
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            raise CalendarError("finnhub: the answer is not JSON") from exc
        return parse_economic_calendar(body)


def _number(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_economic_calendar(body: Any) -> FetchResult:
    rows = body.get("economicCalendar") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise CalendarError("finnhub: no economicCalendar list in the answer")
    result = FetchResult()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            result.skipped.append(f"finnhub row {i}: not an object")
            continue
        event = " ".join(str(row.get("event") or "").split())
        country = str(row.get("country") or "").strip().upper()
        try:
            when = datetime.strptime(str(row.get("time") or ""), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            result.skipped.append(f"finnhub row {i}: bad time {row.get('time')!r}")
            continue
        if not event or len(country) != 2 or not country.isalpha():
            result.skipped.append(f"finnhub row {i}: missing event or country")
            continue
        result.records.append(
            EventRecord(
                source="finnhub",
                # One release of one series per country per day: a moved time updates it.
                source_key=f"{country}|{event.lower()}|{when:%Y-%m-%d}"[:200],
                name=event[:300],
                country=country,
                scheduled_at=when.replace(tzinfo=UTC),
                importance=IMPACT.get(str(row.get("impact") or "").lower(), 1),
                actual=_number(row.get("actual")),
                forecast=_number(row.get("estimate")),
                previous=_number(row.get("prev")),
                unit=str(row.get("unit") or "")[:20],
            )
        )
    return result
