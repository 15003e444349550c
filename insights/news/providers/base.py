"""Plain news records, the source error and the base class every news adapter extends.

An adapter turns one vendor's response into `NewsItem` records: plain dataclasses, never
Django models. Text is passed through `qunex.text.plain_text` here, at the edge, so markup
(including entity-encoded markup such as `&lt;script&gt;`) never reaches storage. A vendor
item that lacks what an article needs (URL, title, time) is counted in `skipped`, not
stored half-filled.

A vendor source (`budget_vendor` set) takes every call from that vendor's shared rate budget
(markets.budget: the same budget as the market-data jobs and the web feed, per vendor and
key), waiting up to the run's deadline (`run_deadline`); a call the budget cannot give is
not made: the source stops there, keeps what it fetched, and reports the rest `deferred`
(a later run does it). A 429 blocks the vendor for its Retry-After in every process; a 403
marks the source's `capability` unentitled for a day (no call is made for it until then).
Vendor sources use a session without its own retries (every attempt is a budgeted call).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from markets.budget import VendorBudget, budget_for, note_refusal, retry_after_seconds, spend_call
from qunex.http import DeadlineExceeded, ResponseTooLarge, shared_session
from qunex.text import plain_text


@dataclass(frozen=True, slots=True)
class NewsItem:
    source: str
    url: str
    title: str
    published_at: datetime  # aware, UTC
    publisher: str = ""
    description: str = ""
    content: str = ""
    author: str = ""
    image_url: str = ""
    symbols: tuple[str, ...] = ()  # the vendor's own ticker tags, upper case


@dataclass
class FetchResult:
    items: list[NewsItem] = field(default_factory=list)
    skipped: int = 0  # malformed vendor items left out
    reasons: list[str] = field(default_factory=list)
    deferred: int = 0  # calls the vendor budget could not give in this run (a later run)
    deferred_reason: str = ""


class SourceError(Exception):
    """A source could not answer. `permanent` says whether asking again later can help;
    `deferred`: no call was made, the shared vendor budget had none in this run;
    `not_entitled`: the key's plan does not include this source (HTTP 403, remembered)."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        permanent: bool,
        deferred: bool = False,
        not_entitled: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.permanent = permanent
        self.deferred = deferred
        self.not_entitled = not_entitled

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


def parse_time(value: Any) -> datetime:
    """ISO 8601 ("2024-05-01T12:00:00Z"), RFC 2822 or epoch seconds to an aware UTC time."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("missing time")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = parsedate_to_datetime(text)  # raises ValueError/TypeError on junk
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def clean_url(value: Any) -> str:
    """An absolute http(s) URL or ValueError."""
    if not isinstance(value, str):
        raise ValueError("missing url")
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in " \x00"):
        raise ValueError(f"not an http(s) URL: {url[:80]!r}")
    if len(url) > 1000:
        raise ValueError("url longer than 1000 characters")
    return url


def optional_url(value: Any) -> str:
    try:
        return clean_url(value)
    except ValueError:
        return ""


def text(value: Any, limit: int) -> str:
    return plain_text(value if isinstance(value, str) else "")[:limit]


def make_item(
    *,
    source: str,
    url: Any,
    title: Any,
    published_at: Any,
    publisher: Any = "",
    description: Any = "",
    content: Any = "",
    author: Any = "",
    image_url: Any = "",
    symbols: Iterable[Any] = (),
) -> NewsItem:
    """Validate and clean one vendor item; ValueError says what is wrong with it."""
    clean_title = text(title, 500)
    if not clean_title:
        raise ValueError("missing title")
    return NewsItem(
        source=source,
        url=clean_url(url),
        title=clean_title,
        published_at=parse_time(published_at),
        publisher=text(publisher, 120),
        description=text(description, 5000),
        content=text(content, 20000),
        author=text(author, 200),
        image_url=optional_url(image_url),
        symbols=tuple(
            dict.fromkeys(
                s.strip().upper()
                for s in symbols
                if isinstance(s, str) and 0 < len(s.strip()) <= 12
            )
        ),
    )


def budgeted_session() -> requests.Session:
    """The vendors' session without its own retries (markets.vendors.market_session)."""
    from markets.vendors import market_session

    return market_session()


class NewsSource:
    """One news vendor. Subclasses set `name` and implement `fetch()`; a vendor sets
    `budget_vendor` (markets.budget's name) and the `capability` a 403 refuses."""

    name: ClassVar[str] = ""
    needs_key: ClassVar[bool] = True
    budget_vendor: ClassVar[str] = ""
    capability: ClassVar[str] = "news"

    def __init__(
        self,
        api_key: str = "",
        *,
        session: requests.Session | None = None,
        base_url: str | None = None,
    ) -> None:
        self.api_key = api_key
        if session is None:
            session = budgeted_session() if self.budget_vendor else shared_session()
        self.session = session
        self.base_url = (base_url or "").rstrip("/")

    @property
    def budget(self) -> VendorBudget | None:
        """The vendor's shared budget for this key (None for keyless feeds)."""
        return budget_for(self.budget_vendor, key=self.api_key) if self.budget_vendor else None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"  # never the key

    def fetch(
        self, *, since: datetime, symbols: list[str] | None = None, limit: int | None = None
    ) -> FetchResult:
        raise NotImplementedError

    # -- for subclasses --

    def error(self, message: str, *, permanent: bool, **kind: bool) -> SourceError:
        return SourceError(message, source=self.name, permanent=permanent, **kind)

    def get(self, url: str, *, params: dict | None = None, headers: dict | None = None):
        """GET through the session; every failure becomes a SourceError. Errors never quote
        the URL (keys travel in query strings). A vendor source first takes the call from
        its budget (module docstring)."""
        budget = self.budget
        if budget is not None:
            why = spend_call(budget, capability=self.capability)
            if why is not None:
                entitled = not why.startswith("not entitled")
                raise self.error(
                    why, permanent=not entitled, deferred=entitled, not_entitled=not entitled
                )
        try:
            response = self.session.get(url, params=params, headers=headers)
        except requests.HTTPError as exc:
            raise self._http_error(exc.response) from None
        except (ResponseTooLarge, DeadlineExceeded) as exc:
            raise self.error(str(exc), permanent=False) from None
        except requests.Timeout:
            raise self.error("timed out", permanent=False) from None
        except requests.RequestException as exc:
            raise self.error(f"request failed: {type(exc).__name__}", permanent=False) from None
        if not response.ok:
            raise self._http_error(response)
        return response

    def get_json(self, url: str, *, params: dict | None = None, headers: dict | None = None):
        response = self.get(url, params=params, headers=headers)
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "").split(";")[0] or "unknown type"
            raise self.error(f"body is not JSON ({kind})", permanent=False) from None

    def _http_error(self, response: requests.Response | None) -> SourceError:
        status = response.status_code if response is not None else 0
        detail = f"HTTP {status}"
        if response is not None:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                for key in ("message", "error", "Error Message"):
                    if isinstance(body.get(key), str):
                        detail += f" {plain_text(body[key])[:200]}"
                        break
        permanent = 400 <= status < 500 and status not in (408, 429)
        budget = self.budget
        if budget is not None and response is not None:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if note_refusal(budget, status, retry_after=retry_after, capability=self.capability):
                return self.error(
                    f"{detail} (not entitled: no {self.capability} calls for a day)",
                    permanent=True,
                    not_entitled=True,
                )
        return self.error(detail, permanent=permanent)

    @staticmethod
    def defer(result: FetchResult, error: SourceError, calls_left: int) -> FetchResult:
        """The budget ran out mid-fetch: keep what was fetched, count the calls not made."""
        result.deferred += max(1, calls_left)
        result.deferred_reason = error.message
        return result

    @staticmethod
    def collect(result: FetchResult, raw_items: Iterable[Any], build) -> FetchResult:
        """Run `build(raw) -> NewsItem` over the vendor's items, counting the malformed."""
        for raw in raw_items:
            try:
                if not isinstance(raw, dict) and not hasattr(raw, "get"):
                    raise ValueError("item is not an object")
                result.items.append(build(raw))
            except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
                result.skipped += 1
                if len(result.reasons) < 20:
                    result.reasons.append(str(exc)[:200])
        return result
