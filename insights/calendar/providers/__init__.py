"""One adapter per calendar source. Each returns `EventRecord`s and raises `CalendarError`."""

from __future__ import annotations

from insights.calendar.providers.base import CalendarError, CalendarSource, EventRecord
from insights.calendar.providers.bls import BLSSource
from insights.calendar.providers.finnhub import FinnhubEconomicSource
from insights.calendar.providers.fomc import FOMCSource

__all__ = [
    "BLSSource",
    "CalendarError",
    "CalendarSource",
    "EventRecord",
    "FOMCSource",
    "FinnhubEconomicSource",
]
