"""A Redis cache that keeps the site answering when Redis fails.

Everything that lives in the default cache (DRF's throttle histories, allauth's rate-limit
counters, the feed's entries, its single-flight lock and throttle counters) goes through
`ResilientRedisCache`:

1. every operation goes to Redis as usual (django-redis);
2. when Redis refuses the connection or stops answering (socket timeout), the error is
   swallowed, the cache is marked *degraded* for `FALLBACK_SECONDS` and the operation is
   served from a per-process local-memory cache instead: limits and locks then hold per
   worker process rather than across the service, which is what a single box without
   Redis can offer;
3. while degraded no request waits for Redis: every operation goes straight to the local
   cache (so a Redis that hangs costs one socket timeout per interval, not one per call);
4. after the interval the next operation tries Redis again; when it answers the cache is
   back to normal by itself (the local entries are simply forgotten);
5. one warning per `WARN_SECONDS` while Redis is failing, and one info line when it is back.

`health_check()` bypasses the fallback so `/health` still reports the outage.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What "Redis is unavailable" looks like: refused/reset connections, socket timeouts, and
# django-redis' wrapper around them. (A command error such as WRONGTYPE is a bug, not an
# outage, and still raises.)
OUTAGE_ERRORS = (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError, OSError)

_PASSTHROUGH = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "set_many",
    "delete_many",
    "has_key",
    "incr",
    "decr",
    "clear",
)


class ResilientRedisCache(RedisCache):
    """django-redis' `RedisCache` with a per-process fallback (see the module docstring).

    OPTIONS, besides django-redis' own: FALLBACK_SECONDS (30: how long to stay on the local
    cache before trying Redis again), WARN_SECONDS (300: at most one warning per interval).
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        self.fallback_seconds = float(options.pop("FALLBACK_SECONDS", 30))
        self.warn_seconds = float(options.pop("WARN_SECONDS", 300))
        super().__init__(server, {**params, "OPTIONS": options})
        self.local = LocMemCache(
            f"qunex-redis-fallback-{id(self)}",
            {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 20_000}},
        )
        self._down_until = 0.0
        self._warned_at: float | None = None
        self._state_lock = threading.Lock()

    # -- state --

    @property
    def degraded(self) -> bool:
        """True while operations are served from the local fallback."""
        return time.monotonic() < self._down_until

    def outage(self, exc: BaseException) -> None:
        """Record that Redis failed: serve locally for `fallback_seconds`, warn once per
        `warn_seconds`. Callers that talk to the Redis client directly (the feed throttle's
        pipeline) call this on an OUTAGE_ERRORS exception and then use the cache API."""
        now = time.monotonic()
        with self._state_lock:
            self._down_until = now + self.fallback_seconds
            warn = self._warned_at is None or now - self._warned_at >= self.warn_seconds
            if warn:
                self._warned_at = now
        if warn:
            logger.warning(
                "Redis cache unavailable (%s: %s); using per-process cache, limits and locks "
                "for %ss before trying again",
                type(exc).__name__,
                exc,
                int(self.fallback_seconds),
            )

    def _recovered(self) -> None:
        if self._warned_at is not None:
            with self._state_lock:
                was_down, self._warned_at = self._warned_at is not None, None
            if was_down:
                logger.info("Redis cache answering again")

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.degraded:
            return getattr(self.local, name)(*args, **kwargs)
        try:
            result = getattr(super(), name)(*args, **kwargs)
        except OUTAGE_ERRORS as exc:
            self.outage(exc)
            return getattr(self.local, name)(*args, **kwargs)
        if self._warned_at is not None:
            self._recovered()
        return result

    def health_check(self) -> None:
        """Raise when Redis itself does not answer (ignores the fallback)."""
        self.client.get_client(write=True).ping()
        self._recovered()
        self._down_until = 0.0


def _passthrough(name: str):
    def method(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"`{name}` on Redis, or on the per-process cache while Redis is down."
    return method


for _name in _PASSTHROUGH:
    setattr(ResilientRedisCache, _name, _passthrough(_name))
