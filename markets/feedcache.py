"""What the quote feed shares between processes: the generation of the stored quotes and the
refresher's lease. Its own module so the writers of quotes (markets.refresh, the feed's
refresher) and the feed (markets.quotes) depend on it, not on each other.

Redis commands are the scarce resource here (Upstash's free tier: 10,000 a day for the whole
service), so both are built to cost a fixed number of commands per process per unit of time,
whatever the number of users:

1. `mdfeed:gen`, the feed generation, is bumped by `feed_invalidate()` whenever quotes are
   written. A process reads it at most once per `interval` seconds (`feed_generation()`),
   and answers every poll in between from its own memory; a process that bumps it, or that
   learns it in the refresher's lease command, knows it without a read.
2. `mdfeed:refresher`, the refresher's lease (`FeedLease`): one process of the group holds
   it and refreshes quotes; it is taken and renewed with a random token for `ttl` seconds
   and only its owner can renew or release it (one Lua script each, compare-and-set), so a
   slow refresh can never delete a lease another process took after it expired. The owner
   knows when its lease runs out by its own clock (`valid()`, measured from before the
   command was sent) and does not write once it may have run out.

With Redis down (qunex.cache's fallback) both live in process memory: each process then
refreshes for itself, which is what a single box without Redis can offer.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from django.core.cache import cache, caches
from django_redis.cache import RedisCache as DjangoRedisCache

from qunex.cache import OUTAGE_ERRORS

logger = logging.getLogger(__name__)

GEN_KEY = "mdfeed:gen"
LEASE_KEY = "mdfeed:refresher"


class _Generation:
    """This process's view of the shared generation: value and when it was read."""

    def __init__(self) -> None:
        self.value: int | None = None
        self.read_at = float("-inf")
        self.lock = threading.Lock()

    def set(self, value: int) -> None:
        self.value, self.read_at = int(value), time.monotonic()

    def forget(self) -> None:
        self.value, self.read_at = None, float("-inf")


GENERATION = _Generation()
# When Redis last answered one of the feed's commands in this process (monotonic): /health
# needs no PING of its own while the feed talks to Redis anyway.
# Keyed by `server_key(backend)`: Django builds one cache object per thread, one server.
REDIS_ANSWERED: dict[str, float] = {}


def server_key(backend: object) -> str:
    return f"{type(backend).__name__}:{getattr(backend, '_server', '')}"


def _answered(at: float | None = None) -> None:
    backend = caches["default"]
    if isinstance(backend, DjangoRedisCache) and not getattr(backend, "degraded", False):
        REDIS_ANSWERED[server_key(backend)] = time.monotonic() if at is None else at


def feed_generation(*, interval: Callable[[], float]) -> int:
    """The shared generation as this process knows it, read from the cache (one GET) when
    it was last read more than `interval()` seconds ago. While one thread reads, the others
    use the value they have (no thread waits, no second read)."""
    known = GENERATION.value
    if known is not None and time.monotonic() - GENERATION.read_at < interval():
        return known
    if known is not None and not GENERATION.lock.acquire(blocking=False):
        return known
    if known is None:
        GENERATION.lock.acquire()
    try:
        if GENERATION.value is not known:  # another thread read it meanwhile
            return GENERATION.value  # type: ignore[return-value]
        GENERATION.set(_int(cache.get(GEN_KEY, 0)))
        _answered()
        return GENERATION.value  # type: ignore[return-value]
    finally:
        GENERATION.lock.release()


def feed_invalidate() -> None:
    """Make every process's feed answers stale: call after writing quotes. This process
    sees the change at once, the others within their check interval."""
    try:
        value = cache.incr(GEN_KEY)
    except ValueError:
        value = 1 if cache.add(GEN_KEY, 1, None) else cache.incr(GEN_KEY)
    GENERATION.set(value)


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


# --- the refresher's lease ------------------------------------------------------------------

# KEYS[1] lease, KEYS[2] generation; ARGV[1] token, ARGV[2] ttl in ms.
# Returns {1 if this token holds the lease now, else 0; the lease's ms left; the generation}.
_HOLD = """
local owner = redis.call('GET', KEYS[1])
local held = 0
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  held = 1
elseif not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  held = 1
end
return {held, redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[2]) or ''}
"""
# KEYS[1] lease; ARGV[1] token. Deletes the lease only when this token owns it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_LOCAL_LEASES: dict[str, tuple[str, float]] = {}  # key -> (token, expires): no shared cache
_LOCAL_LOCK = threading.Lock()


class FeedLease:
    """A lease lock with an owner token (see the module docstring, step 2).

    `hold()` takes the lease when it is free or renews it when this object owns it, in one
    command, and returns whether this object holds it now and for how many seconds the
    current lease (anyone's) still runs. `valid()` says whether this owner may still act on
    it; `release()` frees it only when this object still owns it.
    """

    def __init__(self, key: str = LEASE_KEY, *, ttl: float = 90, margin: float = 5) -> None:
        self.key = key
        self.ttl = float(ttl)
        self.margin = float(margin)
        self.token = uuid.uuid4().hex
        self.held_until = float("-inf")  # monotonic; conservative (from before the command)

    def hold(self) -> tuple[bool, float]:
        sent = time.monotonic()
        backend = caches["default"]
        held, left, generation = None, 0.0, None
        if isinstance(backend, DjangoRedisCache) and not getattr(backend, "degraded", False):
            try:
                held, left, generation = self._redis_hold(backend)
            except OUTAGE_ERRORS as exc:
                if not hasattr(backend, "outage"):
                    raise
                backend.outage(exc)
        if held is None:
            held, left = self._local_hold()
        if generation is not None:
            GENERATION.set(_int(generation))
            _answered(sent)
        self.held_until = sent + self.ttl if held else float("-inf")
        return held, left

    def valid(self) -> bool:
        """True while this owner's lease surely runs (by its own clock, minus a margin)."""
        return time.monotonic() < self.held_until - self.margin

    def remaining(self) -> float:
        return max(0.0, self.held_until - self.margin - time.monotonic())

    def release(self) -> None:
        if self.held_until == float("-inf"):
            return
        self.held_until = float("-inf")
        backend = caches["default"]
        if isinstance(backend, DjangoRedisCache) and not getattr(backend, "degraded", False):
            try:
                client = backend.client
                redis = client.get_client(write=True)
                redis.eval(_RELEASE, 1, client.make_key(self.key), self.token)
                return
            except OUTAGE_ERRORS as exc:
                if not hasattr(backend, "outage"):
                    raise
                backend.outage(exc)
        with _LOCAL_LOCK:
            if _LOCAL_LEASES.get(self.key, ("", 0))[0] == self.token:
                del _LOCAL_LEASES[self.key]

    def _redis_hold(self, backend: DjangoRedisCache) -> tuple[bool, float, object]:
        client = backend.client
        redis = client.get_client(write=True)
        script = _scripts(redis)
        held, left_ms, generation = script(
            keys=[client.make_key(self.key), client.make_key(GEN_KEY)],
            args=[self.token, int(self.ttl * 1000)],
        )
        return bool(held), max(0, int(left_ms)) / 1000, generation

    def _local_hold(self) -> tuple[bool, float]:
        now = time.monotonic()
        with _LOCAL_LOCK:
            owner, expires = _LOCAL_LEASES.get(self.key, ("", 0.0))
            if owner == self.token or expires <= now:
                _LOCAL_LEASES[self.key] = (self.token, now + self.ttl)
                return True, self.ttl
            return False, expires - now


_SCRIPT_CACHE: dict[int, object] = {}


def _scripts(redis) -> object:
    """The registered HOLD script of this Redis client (EVALSHA, EVAL on a cold server)."""
    script = _SCRIPT_CACHE.get(id(redis))
    if script is None:
        script = _SCRIPT_CACHE[id(redis)] = redis.register_script(_HOLD)
    return script
