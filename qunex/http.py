"""The one outbound HTTP session for the whole codebase.

Every call to a vendor goes through `make_session()`:

1. a default timeout on every request (a caller may pass its own `timeout=`);
2. retries with exponential backoff on 429 and 5xx, honouring `Retry-After`
   (seconds or HTTP-date), capped at `max_wait` seconds; urllib3's `Retry` does the work;
3. `raise_for_status()` on every response, so callers see `requests.HTTPError` for 4xx/5xx
   once the retries are spent;
4. a User-Agent that names the app (SEC EDGAR wants "Name email": pass `user_agent=`).

Read timeouts are not retried: a hanging vendor costs one `timeout`, and the caller (the
provider failover) moves on to the next vendor. Connection errors are retried.
Only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) are retried; pass
`retry_methods=` to widen that (e.g. a POST the vendor documents as safe to repeat).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

USER_AGENT = "Qunex/0.1 (+https://github.com/qunex)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Sleep = Callable[[float], None]


class _Retry(Retry):
    """urllib3 `Retry` whose waits go through an injectable `sleep` (tests record them)."""

    def __init__(self, *args: Any, sleep: Sleep = time.sleep, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sleep_fn = sleep

    def new(self, **kw: Any) -> _Retry:
        retry = super().new(**kw)
        retry._sleep_fn = self._sleep_fn
        return retry

    def sleep(self, response: Any = None) -> None:
        wait = None
        if self.respect_retry_after_header and response is not None:
            try:
                wait = self.get_retry_after(response)
            except InvalidHeader:  # "Retry-After: soon": back off as if it were absent
                wait = None
        if not wait:
            wait = self.get_backoff_time()
        if wait > 0:
            self._sleep_fn(wait)


class QunexSession(requests.Session):
    """A `requests.Session` with a default timeout on every request."""

    def __init__(self, *, timeout: float | tuple[float, float]) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def _raise_for_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    response.raise_for_status()


def make_session(
    *,
    retries: int = 3,
    backoff: float = 0.5,
    timeout: float | tuple[float, float] = 10,
    max_wait: float = 60,
    user_agent: str = USER_AGENT,
    retry_methods: Collection[str] = Retry.DEFAULT_ALLOWED_METHODS,
    sleep: Sleep = time.sleep,
) -> QunexSession:
    """Build the shared session. Waits between attempts: `Retry-After` when the vendor sends
    it, else 0, 2*backoff, 4*backoff, ...; never more than `max_wait` seconds."""
    retry = _Retry(
        total=retries,
        read=False,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset(m.upper() for m in retry_methods),
        backoff_factor=backoff,
        backoff_max=max_wait,
        retry_after_max=int(max_wait),
        respect_retry_after_header=True,
        raise_on_status=False,
        sleep=sleep,
    )
    session = QunexSession(timeout=timeout)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = user_agent
    session.hooks["response"].append(_raise_for_status)
    return session


_shared: QunexSession | None = None
_shared_lock = threading.Lock()


def shared_session() -> QunexSession:
    """The one outbound session of this process, built on first use with `HTTP_TIMEOUT`.

    Vendor adapters take a `session` argument (tests pass a session wired to fakes) and
    default to this one."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                from django.conf import settings

                _shared = make_session(timeout=settings.HTTP_TIMEOUT)
    return _shared
