"""Plain records, vendor errors and the base class every market-data adapter extends.

Records are frozen dataclasses, never Django models. Money is `Decimal` (JSON is parsed with
`parse_float=Decimal`, so a price is exactly what the vendor sent); volumes are `int`;
datetimes are timezone-aware UTC; a missing text field is "" and a missing number is None.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

import requests

from qunex.redaction import redact

if TYPE_CHECKING:
    from markets.budget import VendorBudget

NEW_YORK = ZoneInfo("America/New_York")


# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    """One daily bar. `adj_close` is the split-adjusted close when the vendor adjusted the
    bar (then open/high/low/close are split-adjusted too); None means the bar is as traded."""

    symbol: str
    date: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    adj_close: Decimal | None
    volume: int
    source: str


@dataclass(frozen=True, slots=True)
class QuoteRecord:
    """Latest price. `change_pct` is in percent (-0.58 means -0.58 %), not a fraction."""

    symbol: str
    price: Decimal
    change: Decimal | None
    change_pct: Decimal | None
    volume: int | None
    as_of: datetime
    source: str


@dataclass(frozen=True, slots=True)
class TickerInfo:
    symbol: str
    name: str
    exchange: str
    sector: str
    industry: str
    market_cap: int | None
    currency: str
    country: str
    source: str
    asset_type: str = ""  # "stock", "etf", "index" (Ticker.asset_type); "" when unknown


@dataclass(frozen=True, slots=True)
class Split:
    """`ratio_from` old shares become `ratio_to` new shares (a 1:20 forward split is 1 -> 20)."""

    symbol: str
    ex_date: date
    ratio_from: Decimal
    ratio_to: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class Dividend:
    symbol: str
    ex_date: date
    pay_date: date | None
    amount: Decimal
    currency: str
    record_date: date | None
    declaration_date: date | None
    frequency: int | None
    source: str


# --- errors --------------------------------------------------------------------------------


class ProviderError(Exception):
    """A vendor could not answer. `permanent` says whether asking again later can help."""

    def __init__(
        self, message: str, *, permanent: bool, vendor: str, symbol: str | None = None
    ) -> None:
        message = redact(message)  # vendor text can quote our key (Alpha Vantage's does)
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.vendor = vendor
        self.symbol = symbol

    def __str__(self) -> str:
        about = f" ({self.symbol})" if self.symbol else ""
        return f"{self.vendor}{about}: {self.message}"


class RateLimited(ProviderError):
    def __init__(
        self,
        message: str,
        *,
        vendor: str,
        symbol: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, permanent=False, vendor=vendor, symbol=symbol)
        self.retry_after = retry_after


class BudgetSpent(RateLimited):
    """No call was made: the shared vendor budget (markets.budget) had none left within the
    run's time budget. Nothing was wrong with the vendor or the symbol."""


class NotEntitled(ProviderError):
    """The key's plan does not include this capability (HTTP 403, e.g. Polygon snapshots on
    the free tier). Remembered for a day; the failover skips the vendor for it silently."""

    def __init__(self, message: str, *, vendor: str, capability: str, symbol: str | None = None):
        super().__init__(message, permanent=True, vendor=vendor, symbol=symbol)
        self.capability = capability


class NotFound(ProviderError):
    def __init__(self, message: str, *, vendor: str, symbol: str | None = None) -> None:
        super().__init__(message, permanent=True, vendor=vendor, symbol=symbol)


class BadResponse(ProviderError):
    """Not JSON (an HTML error page), or JSON without the fields we need. Transient by default:
    such pages usually come from a proxy or an outage."""

    def __init__(
        self, message: str, *, vendor: str, symbol: str | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message, permanent=permanent, vendor=vendor, symbol=symbol)


# --- parsing helpers -----------------------------------------------------------------------

_MISSING = (None, "", "None", "-", "N/A")


def to_decimal(value: Any) -> Decimal | None:
    """Vendor number (int, Decimal, or string such as "112.13" or "-0.5852%") to Decimal."""
    if value in _MISSING:
        return None
    if isinstance(value, str):
        value = value.strip().removesuffix("%")
    if isinstance(value, float):
        value = str(value)
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def require_decimal(value: Any) -> Decimal:
    result = to_decimal(value)
    if result is None:
        raise ValueError("missing number")
    return result


def to_int(value: Any) -> int | None:
    number = to_decimal(value)
    return None if number is None else int(number)


def to_date(value: Any) -> date | None:
    return None if value in _MISSING else date.fromisoformat(value)


def from_epoch(seconds: int | Decimal, *, unit: int = 1) -> datetime:
    """Epoch in seconds (unit=1), ms (1_000) or ns (1_000_000_000) to an aware UTC datetime."""
    micros = int(Decimal(seconds) * 1_000_000 / unit)
    return datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)


def ny_session_close(day: date) -> datetime:
    """16:00 New York on `day`, in UTC (the regular close; early closes are earlier)."""
    return datetime(day.year, day.month, day.day, 16, tzinfo=NEW_YORK).astimezone(UTC)


def ny_session_open(day: date) -> datetime:
    """09:30 New York on `day`, in UTC."""
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=NEW_YORK).astimezone(UTC)


_EXCHANGES = {
    "XNAS": "NASDAQ",
    "XNGS": "NASDAQ",
    "XNMS": "NASDAQ",
    "XNYS": "NYSE",
    "XASE": "NYSE American",
    "ARCX": "NYSE Arca",
    "BATS": "Cboe BZX",
    "NYSE ARCA": "NYSE Arca",
    "NYSE MKT": "NYSE American",
    "NYSE AMERICAN": "NYSE American",
    "NEW YORK STOCK EXCHANGE, INC.": "NYSE",
}


def normalize_exchange(raw: str | None) -> str:
    """Polygon sends MIC codes (XNAS), Finnhub long names, Alpha Vantage short names."""
    if not raw:
        return ""
    key = raw.strip().upper()
    if key in _EXCHANGES:
        return _EXCHANGES[key]
    if key.startswith("NASDAQ"):
        return "NASDAQ"
    if key.startswith(("NYSE ARCA", "NYSEARCA")):
        return "NYSE Arca"
    if key == "NYSE" or key.startswith("NEW YORK STOCK EXCHANGE"):
        return "NYSE"
    return raw.strip()


# --- the base class ------------------------------------------------------------------------


class Provider:
    """One vendor. Subclasses set `name` and `base_url` and override what the vendor offers;
    the rest raise NotImplementedError, which the failover treats as "ask the next one".

    `session` is the shared session from `qunex.http.make_session()`: adapters pass their
    credentials per request and never change the session itself.
    """

    name: ClassVar[str] = ""
    base_url: ClassVar[str] = ""
    batch_quotes: ClassVar[bool] = False  # True: quotes() asks for many symbols in one call

    def __init__(
        self,
        api_key: str,
        session: requests.Session,
        *,
        base_url: str | None = None,
        budget: VendorBudget | None = None,
    ) -> None:
        self.api_key = api_key
        self.session = session
        self.budget = budget  # None: unmetered (tests); markets.vendors passes the shared one
        if base_url:
            self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"  # never the key

    def daily_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        """Bars with start <= date <= end, oldest first."""
        raise NotImplementedError

    def quote(self, symbol: str) -> QuoteRecord:
        raise NotImplementedError

    def quotes(self, symbols: Iterable[str]) -> dict[str, QuoteRecord]:
        """Quotes keyed by the symbols asked for; a symbol the vendor does not know is left
        out. Any other error stops the loop (a batching vendor overrides this)."""
        found = {}
        for symbol in symbols:
            try:
                found[symbol] = self.quote(symbol)
            except NotFound:
                continue
        return found

    def ticker_details(self, symbol: str) -> TickerInfo:
        raise NotImplementedError

    def splits(self, symbol: str) -> list[Split]:
        raise NotImplementedError

    def dividends(self, symbol: str) -> list[Dividend]:
        raise NotImplementedError

    # -- for subclasses --

    def get_json(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        symbol: str | None = None,
        capability: str | None = None,
    ) -> Any:
        """GET through the shared session and decode JSON, turning every failure into a
        ProviderError. Errors never quote the URL: Alpha Vantage keeps the key in it.

        With a budget: 1. a `capability` the key was refused within the day raises
        NotEntitled without a call; 2. one call is taken from the budget, waiting up to the
        run's deadline (markets.budget.run_deadline), else BudgetSpent; 3. a 429 blocks the
        vendor for its Retry-After (60 s without one), a 403 on a `capability` marks it
        unentitled for a day."""
        self._take_call(symbol, capability)
        try:
            response = self.session.get(url, params=params, headers=headers)
        except requests.HTTPError as exc:
            raise self._noted(self.http_error(exc.response, symbol), capability) from None
        except requests.Timeout:
            raise ProviderError(
                "timed out", permanent=False, vendor=self.name, symbol=symbol
            ) from None
        except requests.RequestException as exc:
            raise ProviderError(
                f"request failed: {type(exc).__name__}",
                permanent=False,
                vendor=self.name,
                symbol=symbol,
            ) from None
        if not response.ok:  # a session without the raise_for_status hook
            raise self._noted(self.http_error(response, symbol), capability)
        try:
            return response.json(parse_float=Decimal)
        except ValueError:
            kind = response.headers.get("Content-Type", "").split(";")[0] or "unknown type"
            raise BadResponse(
                f"HTTP {response.status_code} body is not JSON ({kind})",
                vendor=self.name,
                symbol=symbol,
            ) from None

    def _take_call(self, symbol: str | None, capability: str | None) -> None:
        if self.budget is None:
            return
        if capability and not self.budget.is_entitled(capability):
            raise NotEntitled(
                f"this key's plan has no {capability} (refused earlier today)",
                vendor=self.name,
                capability=capability,
                symbol=symbol,
            )
        if not self.budget.acquire():
            left = self.budget.remaining()
            why = "day's calls spent" if left["day"] == 0 else "no call free within the run's time"
            raise BudgetSpent(
                f"budget: {why}", vendor=self.name, symbol=symbol, retry_after=left["blocked_for"]
            )

    def _noted(self, error: ProviderError, capability: str | None) -> ProviderError:
        """Tell the budget what the vendor said (429, or a 403 on a capability)."""
        if isinstance(error, RateLimited):
            if self.budget is not None:
                self.budget.note_retry_after(error.retry_after or 60)
        elif capability and "HTTP 403" in error.message:
            if self.budget is not None:
                self.budget.mark_unentitled(capability)
            return NotEntitled(
                error.message, vendor=self.name, capability=capability, symbol=error.symbol
            )
        return error

    def http_error(self, response: requests.Response | None, symbol: str | None) -> ProviderError:
        status = response.status_code if response is not None else 0
        detail = f"HTTP {status}"
        if response is not None:
            detail += f" {_error_detail(response)}".rstrip()
        if status == 429:
            return RateLimited(
                detail, vendor=self.name, symbol=symbol, retry_after=_retry_after(response)
            )
        if status == 404:
            return NotFound(detail, vendor=self.name, symbol=symbol)
        return ProviderError(detail, permanent=400 <= status < 500, vendor=self.name, symbol=symbol)

    @contextlib.contextmanager
    def parsing(self, symbol: str | None) -> Iterator[None]:
        """Turn a surprise in the vendor's JSON (missing key, wrong type) into BadResponse."""
        try:
            yield
        except (
            KeyError,
            IndexError,
            TypeError,
            ValueError,
            AttributeError,
            InvalidOperation,
        ) as exc:
            raise BadResponse(
                f"unexpected response shape: {type(exc).__name__}: {exc}",
                vendor=self.name,
                symbol=symbol,
            ) from exc


def _error_detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, dict):
        for key in ("error", "message", "Error Message", "Information", "Note"):
            if isinstance(body.get(key), str):
                return body[key][:200]
    return response.reason or ""


def _retry_after(response: requests.Response | None) -> float | None:
    value = response.headers.get("Retry-After", "") if response is not None else ""
    return float(value) if value.strip().isdigit() else None
