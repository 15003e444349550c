"""The polled feed's throttle: exact fixed-window counts in the shared cache, taken in leases.

DRF's rate throttles keep a list of request times per client in the cache and rewrite it on
every request (a get and a set: two round trips); for an endpoint whose usual answer is an
empty 304 that costs more than the answer. On a busy two-core box even ONE Redis round trip
per request halves the 304 throughput (the worker gives up its core while Redis answers), so
this throttle does not pay one per request:

1. Each client (its IP when anonymous, its user id when signed in) has one counter per
   fixed window (one minute at "60/min") in the default cache, `throttle:feed:<ident>:<n>`.
   Redis adds to it with INCRBY + EXPIRE in one pipelined round trip (atomic, so every
   worker on every host sees one count), which can also carry the reads of the feed's 304
   check (`also_get`); other caches use `incr`/`add`.
2. A worker takes a *lease* of several requests at once (INCRBY n) and serves the next n-1
   from it without a round trip. A client's first lease in a window is 1; it doubles each
   time this worker uses a lease up, at most LEASE_MAX and at most 1/LEASE_SHARE of what
   the client has left, so leases shrink to 1 near the limit. A quiet client (a dashboard
   polls 4 times a minute) is counted one request per round trip, exactly as before; a
   client hammering the feed costs one round trip per LEASE_MAX requests.
3. A lease that straddles the limit is cut to what is left, and a client over its limit is
   remembered as refused until the window ends: a flood of refused requests costs no round
   trips either (the counter only grows within a window, so the memory is exact).

Honest bounds: no client ever gets more than its limit in a window, however many workers and
hosts serve it. It can be refused early by the unused part of leases that *other* workers
hold for it, each at most what that worker already served it in the window and at most
1/LEASE_SHARE of its budget: nothing for a client under the lease threshold, and in practice
only for a client that runs right up to its limit through several workers.

This was chosen over counting per worker and flushing every N requests (a limit that can be
overshot by N per worker) and over not counting 304s (an unbounded flood of them): both
would be cheaper to write but not exact.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.core.cache import caches
from django_redis.cache import RedisCache as DjangoRedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from qunex.cache import OUTAGE_ERRORS

_DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
LEASE_MAX = 64  # requests one worker takes from a client's budget at once, at most ...
LEASE_SHARE = 8  # ... and at most 1/8 of what the client has left in the window
_BOOK_MAX = 10_000  # clients remembered per worker before the expired windows are dropped


@lru_cache(maxsize=16)
def parse_rate(rate: str) -> tuple[int, int]:
    """ "60/min" -> (60, 60): requests per duration in seconds."""
    count, _, period = rate.partition("/")
    return int(count), _DURATIONS[period.strip()[0]]


def client_ident(meta) -> str:
    """DRF's `BaseThrottle.get_ident`, without its per-call overhead: with NUM_PROXIES set,
    the client address NUM_PROXIES hops back in X-Forwarded-For; unset, the whole
    X-Forwarded-For header or else REMOTE_ADDR."""
    xff = meta.get("HTTP_X_FORWARDED_FOR")
    remote_addr = meta.get("REMOTE_ADDR", "")
    num_proxies = api_settings.NUM_PROXIES
    if num_proxies is not None:
        if num_proxies == 0 or xff is None:
            return remote_addr
        addrs = xff.split(",")
        return addrs[-min(num_proxies, len(addrs))].strip()
    return "".join(xff.split()) if xff else remote_addr


def counter_add(
    key: str, amount: int, ttl: int, *, also_get: Sequence[str] = ()
) -> tuple[int, dict[str, Any]]:
    """Add `amount` to the cache counter `key` (created with `ttl` seconds to live) and read
    the cache entries `also_get`; return the new total and the entries found.

    On Redis (django-redis) this is ONE pipelined round trip: INCRBY, EXPIRE and MGET. The
    counter is a plain integer, so `cache.get(key)` reads it as usual; refreshing its TTL on
    every lease is harmless because the key names its window.
    """
    backend = caches["default"]
    if isinstance(backend, DjangoRedisCache) and not getattr(backend, "degraded", False):
        try:
            return _redis_counter_add(backend, key, amount, ttl, also_get)
        except OUTAGE_ERRORS as exc:
            if not hasattr(backend, "outage"):
                raise
            backend.outage(exc)  # Redis is down: count in this process until it is back
    try:
        total = backend.incr(key, amount)
    except ValueError:  # the first request of this window
        total = amount if backend.add(key, amount, ttl) else backend.incr(key, amount)
    return total, (backend.get_many(also_get) if also_get else {})


def _redis_counter_add(
    backend: DjangoRedisCache, key: str, amount: int, ttl: int, also_get: Sequence[str]
) -> tuple[int, dict[str, Any]]:
    client = backend.client
    counter = client.make_key(key)
    pipe = client.get_client(write=True).pipeline(transaction=False)
    pipe.incrby(counter, amount)
    pipe.expire(counter, ttl)
    if also_get:
        pipe.mget([client.make_key(k) for k in also_get])
    results = pipe.execute()
    found = {}
    if also_get:
        found = {
            k: client.decode(v) for k, v in zip(also_get, results[2], strict=True) if v is not None
        }
    return int(results[0]), found


@dataclass
class _Lease:
    limit: int
    window_end: float
    tokens: int = 0  # requests taken from the shared counter and not served yet
    next_size: int = 1
    refused: bool = False


class LeaseBook:
    """One worker's leases, by counter key (see the module docstring, steps 2 and 3)."""

    def __init__(self) -> None:
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def take(self, key: str, limit: int, window_end: float) -> tuple[bool | None, int]:
        """(True, 0): served from a lease; (False, 0): known to be over the limit;
        (None, n): ask the shared counter for a lease of n."""
        with self._lock:
            lease = self._lease(key, limit, window_end)
            if lease.refused:
                return False, 0
            if lease.tokens > 0:
                lease.tokens -= 1
                return True, 0
            return None, lease.next_size

    def grant(self, key: str, limit: int, window_end: float, *, size: int, total: int) -> bool:
        """Record a lease of `size` that brought the shared counter to `total`; True when
        this request is allowed (the lease holds at least one request under the limit)."""
        granted = max(0, min(size, limit - (total - size)))
        with self._lock:
            lease = self._lease(key, limit, window_end)
            if granted == 0:
                lease.refused = True
                return False
            lease.tokens += granted - 1
            left = limit - total
            lease.next_size = max(1, min(LEASE_MAX, size * 2, left // LEASE_SHARE))
            return True

    def clear(self) -> None:
        with self._lock:
            self._leases.clear()

    def _lease(self, key: str, limit: int, window_end: float) -> _Lease:
        lease = self._leases.get(key)
        if lease is None or lease.limit != limit:  # a changed rate starts afresh
            if len(self._leases) >= _BOOK_MAX:
                now = time.time()
                self._leases = {k: v for k, v in self._leases.items() if v.window_end > now}
                if len(self._leases) >= _BOOK_MAX // 2:  # so the sweep stays rare
                    self._leases.clear()  # unused tokens are lost: never more than the limit
            lease = self._leases[key] = _Lease(limit=limit, window_end=window_end)
        return lease


BOOK = LeaseBook()


class FeedRateThrottle(BaseThrottle):
    """Anonymous callers get the `anon` rate per IP, signed-in ones the `user` rate."""

    def __init__(self) -> None:
        self.retry_after = 0.0

    def allow_request(self, request, view) -> bool:
        return self.check(request)[0]

    def check(self, request, *, also_get: Sequence[str] = ()) -> tuple[bool, Mapping[str, Any]]:
        """Count `request` and read the cache entries `also_get` in the same round trip when
        a round trip is needed at all. Returns (allowed, the entries found); a refused
        request reads nothing."""
        if getattr(request, "feed_throttled", False):  # already counted by the 304 fast path
            return True, _get_many(also_get)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            scope, ident = "user", f"user:{user.pk}"
        else:
            scope, ident = "anon", client_ident(request.META)
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        if not rate:
            return True, _get_many(also_get)
        limit, duration = parse_rate(rate)
        now = time.time()
        window = int(now // duration)
        window_end = (window + 1) * duration
        self.retry_after = window_end - now
        key = f"throttle:feed:{ident}:{window}"
        verdict, size = BOOK.take(key, limit, window_end)
        if verdict is not None:
            return verdict, (_get_many(also_get) if verdict else {})
        total, found = counter_add(key, size, duration + 1, also_get=also_get)
        allowed = BOOK.grant(key, limit, window_end, size=size, total=total)
        return allowed, (found if allowed else {})

    def wait(self) -> float:
        return self.retry_after


def _get_many(keys: Sequence[str]) -> dict[str, Any]:
    return caches["default"].get_many(keys) if keys else {}
