"""The polled feed's throttle: counted in process, with a shared counter only for heavy
clients, exact across the service.

A Redis round trip per poll would make the feed's Redis cost grow with its users (Upstash's
free tier: 10,000 commands a day for everything), so a client under its rate costs no Redis
command at all:

1. Each client (its IP when anonymous, its user id when signed in) is counted per fixed
   window (one minute at "60/min") in this process's memory. The first `share` requests of
   a window are served from the count alone, `share = limit // (2 * WEB_CONCURRENCY)`
   (settings.WEB_CONCURRENCY: the web processes; gunicorn.conf.py exports its worker count).
   A dashboard (4 polls a minute) stays inside it all day.
2. A client past its share in this process goes to the shared counter of its window in the
   default cache, `throttle:feed:<ident>:<n>` (INCRBY + EXPIRE in one round trip on Redis),
   and first claims the requests it was served for free, adding CLAIM to the counter too so
   the counter also counts the processes that have claimed (`counter // CLAIM`). It takes a *lease* of
   several requests at once: its first lease is 1, doubling each time this process uses one
   up, at most LEASE_MAX and at most 1/LEASE_SHARE of what is left, so leases shrink to 1
   near the limit.
3. The shared counter's ceiling is `limit - unclaimed * share`: room for the free shares
   that processes which have not claimed yet may have served. A lease that straddles the
   ceiling is cut, and a client over it is remembered as refused until the window ends (a
   flood of refused requests costs no round trips either).

Honest bounds: no client ever gets more than its limit in a window across WEB_CONCURRENCY
processes (more processes than that setting says would each add up to `share`). A client
that runs right up to its limit through one process is refused early by at most the free
shares of the processes that have not served it past theirs, (processes - 1) * share <=
limit / 2, plus the unused leases other processes hold for it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import caches
from django_redis.cache import RedisCache as DjangoRedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from qunex.cache import OUTAGE_ERRORS

_DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CLAIM = 1 << 20  # added to the counter by each process's first claim; limits stay below it
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


def counter_add(key: str, amount: int, ttl: int) -> int:
    """Add `amount` to the cache counter `key` (created with `ttl` seconds to live) and
    return the new total. On Redis (django-redis) this is ONE pipelined round trip: INCRBY
    and EXPIRE; the counter is a plain integer, so `cache.get(key)` reads it as usual."""
    backend = caches["default"]
    if isinstance(backend, DjangoRedisCache) and not getattr(backend, "degraded", False):
        try:
            client = backend.client
            counter = client.make_key(key)
            pipe = client.get_client(write=True).pipeline(transaction=False)
            pipe.incrby(counter, amount)
            pipe.expire(counter, ttl)
            return int(pipe.execute()[0])
        except OUTAGE_ERRORS as exc:
            if not hasattr(backend, "outage"):
                raise
            backend.outage(exc)  # Redis is down: count in this process until it is back
    try:
        return backend.incr(key, amount)
    except ValueError:  # the first request of this window
        return amount if backend.add(key, amount, ttl) else backend.incr(key, amount)


@dataclass
class _Lease:
    limit: int
    window_end: float
    share: int = 0  # requests this process may serve without the shared counter
    served: int = 0  # requests served in this window by this process
    claimed: bool = False  # the free share was added to the shared counter
    tokens: int = 0  # requests taken from the shared counter and not served yet
    next_size: int = 1
    refused: bool = False


class LeaseBook:
    """One process's counts and leases, by counter key (see the module docstring)."""

    def __init__(self) -> None:
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def take(
        self, key: str, limit: int, window_end: float, *, share: int = 0
    ) -> tuple[bool | None, int]:
        """(True, 0): served from the free share or a lease; (False, 0): known to be over
        the limit; (None, n): add n to the shared counter (the unclaimed free share
        included, plus CLAIM when this is the claim) and call grant()."""
        with self._lock:
            lease = self._lease(key, limit, window_end, share)
            if lease.refused:
                return False, 0
            if lease.served < lease.share and not lease.claimed:
                lease.served += 1
                return True, 0
            if lease.tokens > 0:
                lease.tokens -= 1
                lease.served += 1
                return True, 0
            if lease.claimed:
                return None, lease.next_size
            return None, CLAIM + lease.served + lease.next_size

    def grant(
        self, key: str, limit: int, window_end: float, *, size: int, total: int, ceiling: int
    ) -> bool:
        """Record that adding `size` brought the shared counter to `total`; True when this
        request is allowed (the lease holds at least one request under `ceiling`)."""
        size %= CLAIM
        with self._lock:
            lease = self._lease(key, limit, window_end, 0)
            claim = 0 if lease.claimed else lease.served
            lease.claimed = True
            fresh = size - claim  # what this request asked for beyond the free share
            granted = max(0, min(fresh, ceiling - (total - fresh)))
            if granted == 0:
                lease.refused = True
                return False
            lease.tokens += granted - 1
            lease.served += 1
            left = ceiling - total
            lease.next_size = max(1, min(LEASE_MAX, max(fresh, 1) * 2, left // LEASE_SHARE))
            return True

    def clear(self) -> None:
        with self._lock:
            self._leases.clear()

    def _lease(self, key: str, limit: int, window_end: float, share: int) -> _Lease:
        lease = self._leases.get(key)
        if lease is None or lease.limit != limit:  # a changed rate starts afresh
            if len(self._leases) >= _BOOK_MAX:
                now = time.time()
                self._leases = {k: v for k, v in self._leases.items() if v.window_end > now}
                if len(self._leases) >= _BOOK_MAX // 2:  # so the sweep stays rare
                    self._leases.clear()  # unused tokens are lost: never more than the limit
            lease = self._leases[key] = _Lease(limit=limit, window_end=window_end, share=share)
        return lease


BOOK = LeaseBook()


def processes() -> int:
    return max(1, int(getattr(settings, "WEB_CONCURRENCY", 1) or 1))


class FeedRateThrottle(BaseThrottle):
    """Anonymous callers get the `anon` rate per IP, signed-in ones the `user` rate."""

    def __init__(self) -> None:
        self.retry_after = 0.0

    def allow_request(self, request, view) -> bool:
        if getattr(request, "feed_throttled", False):  # already counted by the 304 fast path
            return True
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            scope, ident = "user", f"user:{user.pk}"
        else:
            scope, ident = "anon", client_ident(request.META)
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        if not rate:
            return True
        limit, duration = parse_rate(rate)
        now = time.time()
        window = int(now // duration)
        window_end = (window + 1) * duration
        self.retry_after = window_end - now
        key = f"throttle:feed:{ident}:{window}"
        count = processes()
        share = limit // (2 * count) if limit < CLAIM else 0
        verdict, size = BOOK.take(key, limit, window_end, share=share)
        if verdict is not None:
            return verdict
        claims, total = divmod(counter_add(key, size, duration + 1), CLAIM)
        ceiling = limit - max(0, count - claims) * share
        return BOOK.grant(key, limit, window_end, size=size, total=total, ceiling=ceiling)

    def wait(self) -> float:
        return self.retry_after
