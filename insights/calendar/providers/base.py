"""Plain records, the error type and the small base class of the calendar adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import requests

from qunex.http import shared_session


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One scheduled release. `scheduled_at` is timezone-aware UTC; `all_day` means the source
    gave only a date (then `scheduled_at` is that date's 00:00 UTC)."""

    source: str
    source_key: str
    name: str
    country: str
    scheduled_at: datetime
    all_day: bool = False
    importance: int = 1
    period: str = ""
    actual: Decimal | None = None
    forecast: Decimal | None = None
    previous: Decimal | None = None
    unit: str = ""
    url: str = ""


@dataclass
class FetchResult:
    """What one source returned: the good records and a reason for each item it skipped."""

    records: list[EventRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class CalendarError(Exception):
    """A source could not be read. `permanent` errors (bad key, gone page) will not heal by
    retrying; others (timeouts, 5xx, 429) may. `deferred`: no call was made, the vendor's
    shared budget (markets.budget) had none within the run's time; `not_entitled`: the key's
    plan does not include this source (HTTP 403, remembered for a day). Neither is a failure."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        deferred: bool = False,
        not_entitled: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.deferred = deferred
        self.not_entitled = not_entitled


class CalendarSource:
    """Subclass: set `name`, implement `fetch(start, end)`."""

    name: ClassVar[str] = ""

    def __init__(self, *, session: requests.Session | None = None) -> None:
        self.session = session or shared_session()

    def fetch(self, start: date, end: date) -> FetchResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get(self, url: str, **kwargs) -> requests.Response:
        try:
            return self.session.get(url, **kwargs)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            raise CalendarError(
                f"{self.name}: HTTP {status} from {url}", permanent=status in (401, 403, 404)
            ) from exc
        except requests.RequestException as exc:
            raise CalendarError(f"{self.name}: {type(exc).__name__} for {url}") from exc


Classifier = Callable[[str], int]
