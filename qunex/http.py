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
6. one wall-clock deadline per call (`deadline` seconds, `HTTP_DEADLINE`), shared by
   everything the call does: every connect attempt, retry wait, redirect hop, the headers and
   the body. requests' timeout bounds each socket read, so a server trickling a byte every few
   seconds (in its headers or its body) could hold a call for ever; here:
   a. the call starts its clock in `QunexSession.send` (redirects are followed inside it);
   b. each connect attempt gets the connect timeout or the time left, whichever is less, and
      none starts once the deadline has passed;
   c. a retry wait (Retry-After or backoff) that would not end before the deadline is not
      waited: the call fails at once;
   d. a watchdog timer shuts down every socket the call opened or reused when the deadline
      comes, which ends any blocked read (a header or body trickle, a server that never
      answers);
   e. the call then fails with `DeadlineExceeded` (a `requests.Timeout`).
   Not cut mid-way: name resolution (getaddrinfo cannot be interrupted; the resolver's own
   timeout bounds it) and a TLS handshake, whose reads are bounded by the connect timeout
   clamped to the time left (the watchdog sees the TLS socket once the handshake is done).

Read timeouts are not retried: a hanging vendor costs one `timeout`, and the caller (the
provider failover) moves on to the next vendor. Connection errors are retried.
Only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) are retried; pass
`retry_methods=` to widen that (e.g. a POST the vendor documents as safe to repeat).
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    InvalidHeader,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.poolmanager import ProxyManager
from urllib3.util.retry import Retry

USER_AGENT = "Qunex/0.1 (+https://github.com/qunex)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_DEADLINE = 30.0
_CHUNK = 64 * 1024

Sleep = Callable[[float], None]


class ResponseTooLarge(requests.RequestException):
    """The body is larger than the session's `max_bytes`."""


class DeadlineExceeded(requests.Timeout):
    """The call took longer than the session's overall `deadline`."""


class CallDeadline:
    """One outbound call's clock: its deadline and the watchdog that shuts down the call's
    sockets when the deadline comes (module docstring, 6). Also used by the one client that
    cannot go through this session (Claude's SDK speaks httpx): `watch()` every socket the call
    opens, `finish()` when it is over, `over()` to tell a cut from a failure."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline_at = time.monotonic() + seconds
        self.expired = False
        self._done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return self.deadline_at - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self._done:
                return
            if not self.expired:
                if sock not in self._sockets:
                    self._sockets.append(sock)
                return
        _shut(sock)  # opened after the deadline: end it at once

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    def finish(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            self._sockets = []

    def over(self) -> bool:
        return self.expired or self.remaining() <= 0

    def exceeded(self, detail: str = "", response: Any = None) -> DeadlineExceeded:
        message = f"no complete answer within the {self.seconds:g} s deadline"
        return DeadlineExceeded(f"{message}{detail}", response=response)


def _shut(sock: socket.socket) -> None:
    """End every blocked read or write on `sock` (close() alone does not wake a reader)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


# The call this thread (or task) is making, if any: set by `QunexSession.send`.
_current: contextvars.ContextVar[CallDeadline | None] = contextvars.ContextVar(
    "_current", default=None
)


class _WatchedConnectionMixin:
    """urllib3 connection that connects within the call's time left and hands its socket to
    the call's watchdog, whether the socket is new or reused from the pool."""

    timeout: Any
    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        call = _current.get()
        if call is not None:
            left = call.remaining()
            if left <= 0:
                raise ConnectTimeoutError(self, "the call's deadline passed before connecting")
            if not isinstance(self.timeout, int | float) or self.timeout > left:
                self.timeout = left
        sock = super()._new_conn()  # type: ignore[misc]
        if call is not None:
            call.watch(sock)
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        call = _current.get()
        if call is not None and self.sock is not None:
            call.watch(self.sock)  # HTTPS: the TLS socket (the plain one was detached)

    def request(self, *args: Any, **kwargs: Any) -> None:
        call = _current.get()
        if call is not None and self.sock is not None:
            call.watch(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_WatchedConnectionMixin, HTTPConnection):
    pass


class _HTTPSConnection(_WatchedConnectionMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_WATCHED_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _Retry(Retry):
    """urllib3 `Retry` whose waits go through an injectable `sleep` (tests record them)."""

    def __init__(self, *args: Any, sleep: Sleep = time.sleep, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sleep_fn = sleep

    def new(self, **kw: Any) -> _Retry:
        retry = super().new(**kw)
        retry._sleep_fn = self._sleep_fn
        return retry

    def increment(self, *args: Any, **kwargs: Any) -> Retry:
        call = _current.get()
        if call is not None and call.over():
            response = kwargs.get("response")
            if response is not None:  # not drained (it may trickle): its socket is closed
                with contextlib.suppress(Exception):
                    response.close()
            raise call.exceeded()
        return super().increment(*args, **kwargs)

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
            call = _current.get()
            if call is not None and wait >= call.remaining():
                raise call.exceeded(f" (a retry in {wait:g} s would pass it)")
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
    """An `HTTPAdapter` that reads every body itself, within `max_bytes` and the call's
    deadline, over connections the call's watchdog can shut down."""

    def __init__(self, *, max_bytes: int, deadline: float, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        self.deadline = deadline
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is ProxyManager:  # SOCKS proxies keep their own pools
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # type: ignore[override]
        call = _current.get()
        if call is not None:
            return self._send(call, request, timeout, verify, cert, proxies)
        call = CallDeadline(self.deadline)  # sent without QunexSession: this hop is the call
        token = _current.set(call)
        try:
            return self._send(call, request, timeout, verify, cert, proxies)
        finally:
            call.finish()
            _current.reset(token)

    def _send(
        self, call: CallDeadline, request, timeout, verify, cert, proxies
    ) -> requests.Response:
        if call.over():
            raise call.exceeded()
        try:
            response = super().send(
                request,
                stream=True,
                timeout=_clamp(timeout, call.remaining()),
                verify=verify,
                cert=cert,
                proxies=proxies,
            )
        except DeadlineExceeded:
            raise
        except requests.RequestException as exc:
            inner = exc.args[0] if exc.args else None
            if isinstance(inner, DeadlineExceeded):
                raise inner from None
            if call.over():
                raise call.exceeded() from exc
            raise
        try:
            if call.expired:  # the watchdog cut the headers short
                raise call.exceeded(response=response)
            response._content = self._read_body(response, call, _read_timeout(timeout))
        except BaseException:
            response.close()
            raise
        response._content_consumed = True
        response.raw.release_conn()
        return response

    def _read_body(self, response: requests.Response, call: CallDeadline, read_timeout) -> bytes:
        """1. refuse at once when Content-Length is over the cap; 2. read what the socket has,
        at most `_CHUNK` at a time, with the socket timeout set to the time left; 3. stop at
        the cap or the deadline (a body the watchdog cut short is not a body)."""
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
            remaining = call.remaining()
            if remaining <= 0 or call.expired:
                raise call.exceeded(response=response)
            # The deadline, not the per-read timeout, is what this read can run into.
            deadline_bound = read_timeout is None or remaining <= read_timeout
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.settimeout(remaining if deadline_bound else read_timeout)
            try:
                chunk = raw.read1(_CHUNK, decode_content=True)
            except ReadTimeoutError as exc:
                if deadline_bound or call.over():
                    raise call.exceeded(response=response) from None
                raise requests.ReadTimeout(exc, response=response) from None
            except DecodeError as exc:
                if call.expired:
                    raise call.exceeded(response=response) from None
                raise requests.exceptions.ContentDecodingError(exc, response=response) from None
            except (ProtocolError, OSError) as exc:
                if call.expired:
                    raise call.exceeded(response=response) from None
                raise requests.ConnectionError(exc, response=response) from None
            if not chunk:
                if call.expired:
                    raise call.exceeded(response=response)
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_bytes:
                raise ResponseTooLarge(
                    f"response body is over the {self.max_bytes}-byte cap", response=response
                )
            chunks.append(chunk)


class QunexSession(requests.Session):
    """A `requests.Session` with a default timeout on every request and one deadline over
    each whole call (every retry, wait and redirect hop it makes)."""

    def __init__(self, *, timeout: float | tuple[float, float], deadline: float) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.deadline = deadline

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if _current.get() is not None:  # a redirect hop of the call already running
            return super().send(request, **kwargs)
        call = CallDeadline(self.deadline)
        token = _current.set(call)
        try:
            return super().send(request, **kwargs)
        except requests.HTTPError:
            raise
        except requests.RequestException as exc:
            if isinstance(exc, DeadlineExceeded) or not call.over():
                raise
            raise call.exceeded() from exc
        finally:
            call.finish()
            _current.reset(token)


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
    it, else 0, 2*backoff, 4*backoff, ...; never more than `max_wait` seconds, and none that
    would pass the call's deadline. Every body is capped at `max_bytes` and every call, all
    its attempts, waits and redirects included, at `deadline` seconds (module docstring, 5, 6)."""
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
    session = QunexSession(timeout=timeout, deadline=deadline)
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
