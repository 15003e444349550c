"""A cheap throttle for the polled feed.

DRF's rate throttles keep a list of request times per client in the cache and rewrite it on
every request; for an endpoint whose usual answer is an empty 304 that costs more than the
answer. This one counts requests per client in fixed windows (one minute at "60/min") with `cache.incr`
(atomic on Redis): one cache call per request, two on the first request of a window.
"""

from __future__ import annotations

import time
from functools import lru_cache

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

_DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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
        key = f"throttle:feed:{ident}:{int(now // duration)}"
        try:
            count = cache.incr(key)
        except ValueError:  # first request of this window
            count = 1 if cache.add(key, 1, duration + 1) else cache.incr(key)
        self.retry_after = duration - now % duration
        return count <= limit

    def wait(self) -> float:
        return self.retry_after
