"""NYSE sessions, holidays and early closes, from pandas-market-calendars.

Each year's schedule is computed once (lru_cache) and kept as plain Python values. Every
datetime in or out is timezone-aware; results are UTC. A session is a trading day's date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import pandas_market_calendars as mcal

EXCHANGE = "NYSE"
NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class Session:
    day: date
    open: datetime  # UTC
    close: datetime  # UTC; 13:00 New York on early-close days


@lru_cache(maxsize=1)
def _calendar() -> mcal.MarketCalendar:
    """Imported on first use (pandas and exchange_calendars weigh ~100 MB): a process that
    never asks about sessions never loads them; gunicorn's master computes this year's
    schedule before forking, so workers share it (gunicorn.conf.py)."""
    import pandas_market_calendars

    return pandas_market_calendars.get_calendar(EXCHANGE)


@lru_cache(maxsize=64)
def _year(year: int) -> tuple[Session, ...]:
    schedule = _calendar().schedule(start_date=date(year, 1, 1), end_date=date(year, 12, 31))
    return tuple(
        Session(
            day=day.date(),
            open=opens.to_pydatetime().astimezone(UTC),
            close=closes.to_pydatetime().astimezone(UTC),
        )
        for day, opens, closes in zip(
            schedule.index, schedule["market_open"], schedule["market_close"], strict=True
        )
    )


@lru_cache(maxsize=64)
def _by_day(year: int) -> dict[date, Session]:
    return {s.day: s for s in _year(year)}


def session(day: date) -> Session | None:
    """The session on `day` (with its open and close), or None on weekends and holidays."""
    return _by_day(day.year).get(day)


def is_session(day: date) -> bool:
    return session(day) is not None


def sessions(start: date, end: date) -> list[date]:
    """Trading days with start <= day <= end: the days that must have a daily bar."""
    return [
        s.day
        for year in range(start.year, end.year + 1)
        for s in _year(year)
        if start <= s.day <= end
    ]


def last_session(on_or_before: date) -> date:
    """The latest trading day on or before `on_or_before`."""
    for year in range(on_or_before.year, on_or_before.year - 3, -1):
        days = [s.day for s in _year(year) if s.day <= on_or_before]
        if days:
            return days[-1]
    raise LookupError(f"no NYSE session on or before {on_or_before}")


def is_open(at: datetime) -> bool:
    """True during the regular session (open <= at < close); pre- and after-market are closed."""
    today = session(_ny_date(at))
    return today is not None and today.open <= at < today.close


def next_open(at: datetime) -> datetime:
    """The first regular open strictly after `at` (the next day's if the market is open now)."""
    return _next(at, lambda s: s.open)


def next_close(at: datetime) -> datetime:
    """The first regular close strictly after `at` (today's while the market is open)."""
    return _next(at, lambda s: s.close)


def _next(at: datetime, edge) -> datetime:
    day = _ny_date(at)
    for year in range(day.year, day.year + 3):
        for s in _year(year):
            if s.day >= day and edge(s) > at:
                return edge(s)
    raise LookupError(f"no NYSE session after {at}")


def _ny_date(at: datetime) -> date:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("calendar functions need an aware datetime")
    return at.astimezone(NEW_YORK).date()
