"""The one outbound HTTP session for the whole codebase.

Every call to a vendor goes through `make_session()`:

1. a default timeout on every request (a caller may pass its own `timeout=`);
2. retries with exponential backoff on 429 and 5xx, honouring `Retry-After`
   (seconds or HTTP-date), capped at `max_wait` seconds; urllib3's `Retry` does the work;
3. `raise_for_status()` on every response, so callers see `requests.HTTPError` for 4xx/5xx
   once the retries are spent;
4. a User-Agent that names the app (SEC EDGAR wants "Name email": pass `user_agent=`);
5. a size cap on every body (`max_bytes`, `HTTP_MAX_BYTES`): the body is streamed and the
   call fails with `ResponseTooLarge` at the cap (or at once when Content-Length says more);
6. an overall deadline per call (`deadline` seconds, `HTTP_DEADLINE`): requests' timeout
   bounds each socket read, so a server trickling a byte every few seconds could hold a call
   for ever; the connect and read timeouts are clamped to the time left, the body is read
   with the socket timeout set to the time left before every read, and the call fails with
   `DeadlineExceeded` (a `requests.Timeout`) at the deadline. Deliberate waits between
   retries (capped by `max_wait`) come on top of the deadline.

Read timeouts are not retried: a hanging vendor costs one `timeout`, and the caller (the
provider failover) moves on to the next vendor. Connection errors are retried.
Only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) are retried; pass
`retry_methods=` to widen that (e.g. a POST the vendor documents as safe to repeat).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import DecodeError, InvalidHeader, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

USER_AGENT = "Qunex/0.1 (+https://github.com/qunex)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_DEADLINE = 30.0
_CHUNK = 64 * 1024

Sleep = Callable[[float], None]

# Seconds this call has spent in deliberate retry waits (they extend its deadline).
_slept: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("_slept", default=None)


class ResponseTooLarge(requests.RequestException):
    """The body is larger than the session's `max_bytes`."""


class DeadlineExceeded(requests.Timeout):
    """The call took longer than the session's overall `deadline`."""


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
            slept = _slept.get()
            if slept is not None:
                slept[0] += wait
            self._sleep_fn(wait)


def _clamp(timeout: Any, remaining: float) -> Any:
    """`timeout` (seconds, (connect, read) or None) with each part at most `remaining`."""
    if isinstance(timeout, tuple):
        return tuple(remaining if t is None else min(t, remaining) for t in timeout)
    if isinstance(timeout, int | float):
        return min(timeout, remaining)
    return remaining


def _read_timeout(timeout: Any) -> float | None:
    if isinstance(timeout, tuple):
        return timeout[1]
    return timeout if isinstance(timeout, int | float) else None


class BoundedAdapter(HTTPAdapter):
    """An `HTTPAdapter` that reads every body itself, within `max_bytes` and the deadline."""

    def __init__(self, *, max_bytes: int, deadline: float, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        self.deadline = deadline
        super().__init__(**kwargs)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # type: ignore[override]
        started = time.monotonic()
        slept = [0.0]
        token = _slept.set(slept)
        try:
            response = super().send(
                request,
                stream=True,
                timeout=_clamp(timeout, self.deadline),
                verify=verify,
                cert=cert,
                proxies=proxies,
            )
        finally:
            _slept.reset(token)
        deadline_at = started + self.deadline + slept[0]
        try:
            response._content = self._read_body(response, deadline_at, _read_timeout(timeout))
        except BaseException:
            response.close()
            raise
        response._content_consumed = True
        response.raw.release_conn()
        return response

    def _read_body(self, response: requests.Response, deadline_at: float, read_timeout) -> bytes:
        """1. refuse at once when Content-Length is over the cap; 2. read what the socket has,
        at most `_CHUNK` at a time, with the socket timeout set to the time left; 3. stop at
        the cap or the deadline."""
        declared = response.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
            raise ResponseTooLarge(
                f"response body of {int(declared)} bytes is over the {self.max_bytes}-byte cap",
                response=response,
            )
        raw = response.raw
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline_at - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(
                    f"no complete answer within the {self.deadline:g} s deadline", response=response
                )
            # The deadline, not the per-read timeout, is what this read can run into.
            deadline_bound = read_timeout is None or remaining <= read_timeout
            if sock is not None:
                sock.settimeout(remaining if deadline_bound else read_timeout)
            try:
                chunk = raw.read1(_CHUNK, decode_content=True)
            except ReadTimeoutError as exc:
                if deadline_bound or time.monotonic() >= deadline_at:
                    raise DeadlineExceeded(
                        f"no complete answer within the {self.deadline:g} s deadline",
                        response=response,
                    ) from None
                raise requests.ReadTimeout(exc, response=response) from None
            except DecodeError as exc:
                raise requests.exceptions.ContentDecodingError(exc, response=response) from None
            except (ProtocolError, OSError) as exc:
                raise requests.ConnectionError(exc, response=response) from None
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_bytes:
                raise ResponseTooLarge(
                    f"response body is over the {self.max_bytes}-byte cap", response=response
                )
            chunks.append(chunk)


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
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline: float = DEFAULT_DEADLINE,
) -> QunexSession:
    """Build the shared session. Waits between attempts: `Retry-After` when the vendor sends
    it, else 0, 2*backoff, 4*backoff, ...; never more than `max_wait` seconds. Every body is
    capped at `max_bytes` and every call at `deadline` seconds (module docstring, 5 and 6)."""
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
    adapter = BoundedAdapter(max_retries=retry, max_bytes=max_bytes, deadline=deadline)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = user_agent
    session.hooks["response"].append(_raise_for_status)
    return session


_shared: tuple[tuple[Any, ...], QunexSession] | None = None
_shared_lock = threading.Lock()


def shared_session() -> QunexSession:
    """The one outbound session of this process, built on first use with `HTTP_TIMEOUT`,
    `HTTP_MAX_BYTES` and `HTTP_DEADLINE` (and rebuilt if a test changes them).

    Vendor adapters take a `session` argument (tests pass a session wired to fakes) and
    default to this one."""
    global _shared
    from django.conf import settings

    key = (settings.HTTP_TIMEOUT, settings.HTTP_MAX_BYTES, settings.HTTP_DEADLINE)
    current = _shared
    if current is None or current[0] != key:
        with _shared_lock:
            if _shared is None or _shared[0] != key:
                session = make_session(timeout=key[0], max_bytes=key[1], deadline=key[2])
                _shared = (key, session)
            current = _shared
    return current[1]
