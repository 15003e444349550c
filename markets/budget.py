"""One rate budget per vendor and API key, shared by every job and the web feed.

    budget = budget_for("polygon")
    if budget.acquire(wait_until=time.monotonic() + 30):   # take one call, wait <= 30 s
        ...call the vendor...
    budget.note_retry_after(12)          # the vendor said 429 + Retry-After: 12
    budget.mark_unentitled("snapshot")   # the vendor said 403: no snapshot calls for a day
    budget.is_entitled("snapshot")       # False for the next 24 h, in every process
    budget.remaining()                   # {"minute": 3, "day": None, "blocked_for": 0.0, ...}

How the budget is kept (all in the Django cache, so Redis shares it across the web and the
jobs in production; local memory on a laptop):

1. Calls per minute are `limit` tokens, one cache key each, taken with `add` (SET NX) for
   60 s: a token is free again exactly 60 s after it was taken, so no rolling minute ever
   holds more than `limit` calls (a fixed minute window would let 2 x limit through across
   its edge). One `get_many` reads every token plus the Retry-After block, then one `add`
   takes a free token: 2 Redis commands per call (3 with a day cap: one INCR).
2. Calls per day: one counter per UTC day (`incr`, created with `add` on first use).
3. When no token is free, `acquire` sleeps until the oldest one frees (its value is the
   time it was taken) or the Retry-After block ends, and gives up (False) when that is past
   `wait_until`. `wait_until` is a `time.monotonic()` deadline; None means "do not wait"
   (a page request never waits on a vendor).
4. Entitlements ("snapshot", ...): a cache key per capability for `ttl` seconds, remembered
   in process for a minute so asking is almost free.
5. The cache key holds a short hash of the API key, never the key itself; a different key
   is a different budget.
6. Never raises: when the cache (Redis) fails, the budget is kept in a per-process local
   memory instead (limits then hold per process) and a warning is logged once a minute.

Limits come from settings `<VENDOR>_CALLS_PER_MINUTE` and `<VENDOR>_CALLS_PER_DAY`
(0 = no limit), e.g. POLYGON_CALLS_PER_MINUTE=5, ALPHA_VANTAGE_CALLS_PER_DAY=25.

7. Purposes share a day cap through reserves (`<VENDOR>_DAY_RESERVES`, e.g.
   ALPHA_VANTAGE_DAY_RESERVES=feed:10,bars:8,quotes:2): a call made for a purpose
   (`with budget_purpose("quotes"):`, or `acquire(purpose=...)`) may not take a call that
   another purpose still has in reserve today, so the quote step cannot spend the calls the
   web feed and the backfill were promised; the unreserved rest goes to whoever asks first.
   One more counter per purpose and day (an INCR, and a DECR when it has to give the call
   back because another process took the last free one at the same moment).
8. A single leader that wants many calls at once (the feed refresher) uses
   `acquire_many(n)`: on Redis a GET of the Retry-After block and one atomic Lua script
   (EVAL: one command) that takes up to n free minute tokens with SET NX PX, the same tokens
   `acquire()` takes, so the two kinds of taking never let a rolling minute hold more than
   `limit` calls. With a day cap (few calls, reserves per purpose) or on local memory, or
   when Redis fails, it takes the calls one by one as `acquire()` does.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache as default_cache
from django.core.cache.backends.locmem import LocMemCache

logger = logging.getLogger(__name__)

MINUTE = 60.0
_SETTING_PREFIX = {"alphavantage": "ALPHA_VANTAGE"}
_KEY_SETTING = {"newsapi": "NEWSAPI_KEY"}  # default: <PREFIX>_API_KEY
_local_cache = LocMemCache("qunex-vendor-budget-fallback", {"OPTIONS": {"MAX_ENTRIES": 5000}})
_warned_at = 0.0
_warn_lock = threading.Lock()

# The deadline a job run sets for every vendor call made under it (see `run_deadline`).
_deadline: ContextVar[float | None] = ContextVar("vendor_budget_deadline", default=None)
# What the calls under a block are for (see `budget_purpose`): "feed", "quotes", "bars", ...
_purpose: ContextVar[str] = ContextVar("vendor_budget_purpose", default="")


class VendorBudget:
    """The shared rate budget of one vendor and key (see the module docstring)."""

    def __init__(
        self,
        vendor: str,
        *,
        key: str = "",
        per_minute: int = 0,
        per_day: int = 0,
        window: float = MINUTE,
        cache: Any = None,
        clock: Callable[[], float] | None = None,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        reserves: dict[str, int] | None = None,
    ) -> None:
        self.vendor = vendor
        # Calls of the day kept for each purpose (module docstring, 7); only with a day cap.
        self.reserves = {p: n for p, n in (reserves or {}).items() if n > 0} if per_day else {}
        self.per_minute = max(0, per_minute)
        self.per_day = max(0, per_day)
        self.window = window  # seconds a token stays taken (a minute; tests shrink it)
        self._cache = cache
        # Looked up at call time, so a benchmark can run the clock virtually (markets.budget.time).
        self._clock = clock or (lambda: time.time())
        self._monotonic = monotonic or (lambda: time.monotonic())
        self._sleep = sleep or (lambda seconds: time.sleep(seconds))
        digest = hashlib.sha256(key.encode()).hexdigest()[:12] if key else "nokey"
        self.prefix = f"vbudget:{vendor}:{digest}"
        self._next_token = 0
        self._entitled: dict[str, tuple[bool, float]] = {}
        self.calls = 0  # calls this process took from the budget (benchmarks, summaries)
        self.waited = 0.0  # seconds this process spent waiting for a call

    def __repr__(self) -> str:
        return f"<VendorBudget {self.vendor} {self.per_minute}/min {self.per_day}/day>"

    # -- taking calls --

    def acquire(self, *, wait_until: float | None = None, purpose: str | None = None) -> bool:
        """Take one call. `wait_until` is a `time.monotonic()` deadline to wait up to (None:
        the current `run_deadline`, if any, else do not wait). False when no call can be had
        by then: the minute is full, a Retry-After block runs past it, or the day is spent
        (for `purpose`, default the current `budget_purpose`: the day less what other
        purposes still hold in reserve)."""
        if wait_until is None:
            wait_until = _deadline.get()
        if purpose is None:
            purpose = _purpose.get()
        while True:
            wait = self._try_take(purpose)
            if wait is None:
                self.calls += 1
                return True
            if wait == float("inf"):
                return False
            now = self._monotonic()
            if wait_until is None or now + wait > wait_until:
                return False
            self._sleep(wait)
            self.waited += wait

    def acquire_many(
        self,
        n: int,
        *,
        wait_until: float | None = None,
        purpose: str | None = None,
        spread: float = 0.0,
    ) -> int:
        """Take up to `n` calls of the current minute at once, for a single leader (the feed
        refresher) that knows how many calls it wants: how many were granted (0..n). Same
        limits as `acquire()` (they take the same minute tokens), the same Retry-After block
        and day cap; see the module docstring, 8. Waits (up to `wait_until`, default the
        current `run_deadline`) only when nothing at all is free now, and then for one call.

        `spread`: the seconds over which the caller will make the granted calls (it starts
        none later): each token is held `window + spread`, so that no rolling minute of the
        calls as the vendor sees them holds more than the limit."""
        if n <= 0:
            return 0
        if wait_until is None:
            wait_until = _deadline.get()
        if purpose is None:
            purpose = _purpose.get()
        spread = max(0.0, spread)
        granted = self._take_now(n, purpose, spread)
        while granted == 0 and wait_until is not None:  # as acquire() waits
            wait = self._try_take(purpose, spread)
            if wait is None:
                granted = 1 + self._take_now(n - 1, purpose, spread)
                break
            if wait == float("inf") or self._monotonic() + wait > wait_until:
                break
            self._sleep(wait)
            self.waited += wait
        self.calls += granted
        return granted

    def _take_now(self, n: int, purpose: str, spread: float = 0.0) -> int:
        """Up to `n` calls without waiting: one command on Redis when there is no day cap,
        else (a day-capped vendor: few calls, reserves per purpose) one `_try_take` each."""
        if n <= 0:
            return 0
        if not self.per_day:
            # The Retry-After block (one GET): its value is the time it ends.
            blocked = _float(self._call("get", f"{self.prefix}:block", default=None))
            if blocked and blocked > self._clock():
                return 0
            if not self.per_minute:
                return n
            granted = self._take_batch(n, spread)
            if granted is not None:
                return granted
        granted = 0
        while granted < n and self._try_take(purpose, spread) is None:
            granted += 1
        return granted

    def _take_batch(self, n: int, spread: float = 0.0) -> int | None:
        """Up to `n` free minute tokens in ONE Redis command (an atomic Lua script: SET NX PX
        on each free token until `n` are taken). None when the
        cache is not Redis or is failing: the caller takes tokens one by one instead (on the
        local fallback when Redis is down)."""
        cache = self._cache_or_default()
        client = getattr(cache, "client", None)
        if not hasattr(client, "get_client") or getattr(cache, "degraded", False):
            return None
        keys = [f"{self.prefix}:t{i}" for i in range(self.per_minute)]
        try:
            redis = client.get_client(write=True)
            names = [str(client.make_key(key)) for key in keys]
            # A token's value is when it frees less the window (see `_try_take`); an int,
            # which django-redis reads back as is.
            taken_at = int(self._clock() + spread) + 1
            window_ms = max(1, int((self.window + spread) * 1000))
            start = self._next_token % self.per_minute
            got = int(redis.eval(_BATCH_LUA, len(names), *names, n, taken_at, window_ms, start))
        except Exception as exc:  # Redis down or refusing scripts: one token at a time
            _warn(exc)  # (the one-by-one path then marks a ResilientRedisCache degraded)
            return None
        granted = max(0, got)
        self._next_token = (start + granted) % self.per_minute
        return granted

    def _try_take(self, purpose: str = "", spread: float = 0.0) -> float | None:
        """None when a call was taken, else the seconds to wait before trying again
        (inf: not before tomorrow)."""
        now = self._clock()
        if self.reserves and self.day_left(purpose) <= 0:
            return float("inf")
        tokens = [f"{self.prefix}:t{i}" for i in range(self.per_minute)]
        block_key = f"{self.prefix}:block"
        found = self._call("get_many", [*tokens, block_key], default={}) or {}
        blocked = _float(found.get(block_key))
        if blocked and blocked > now:
            return blocked - now
        if self.per_day and self._day_used() >= self.per_day:
            return float("inf")
        if tokens:
            free = [i for i in range(len(tokens)) if tokens[i] not in found]
            if not free:
                oldest = min(_float(found[t]) or now for t in tokens)
                return max(0.05, oldest + self.window - now)
            # Start at this process' rotating pointer: in one process the next token to
            # free is the oldest, so a run of calls tries each key once.
            free.sort(key=lambda i: (i - self._next_token) % len(tokens))
            index = free[0]
            # Held `window` after the last call made under it (`spread`: acquire_many); its
            # value is when it frees less the window, which is what a waiter reads.
            taken = self._call(
                "add", tokens[index], now + spread, self.window + spread, default=True
            )
            if not taken:
                return 0.05  # another process took it first: look again
            self._next_token = (index + 1) % len(tokens)
        if self.per_day:
            used = self._day_incr()
            if used > self.per_day:
                return float("inf")
            if self.reserves and not self._take_reserved(purpose, used):
                return float("inf")
        return None

    # -- reserves per purpose --

    def _purpose_key(self, purpose: str) -> str:
        return f"{self._day_key()}:p:{purpose}"

    def _purposes_used(self) -> dict[str, int]:
        keys = {p: self._purpose_key(p) for p in self.reserves}
        found = self._call("get_many", list(keys.values()), default={}) or {}
        return {p: int(_float(found.get(k)) or 0) for p, k in keys.items()}

    def _held_for_others(self, purpose: str, used: dict[str, int]) -> int:
        return sum(
            max(0, reserve - used[p]) for p, reserve in self.reserves.items() if p != purpose
        )

    def day_left(self, purpose: str | None = None) -> int | None:
        """Calls left today for `purpose` (default the current `budget_purpose`): the day's
        calls left less what other purposes still hold in reserve. None: no day cap."""
        if not self.per_day:
            return None
        purpose = _purpose.get() if purpose is None else purpose
        left = self.per_day - self._day_used()
        if self.reserves:
            left -= self._held_for_others(purpose, self._purposes_used())
        return max(0, left)

    def _take_reserved(self, purpose: str, day_used: int) -> bool:
        """The day's call `day_used` was counted: count it for `purpose` too, and give it
        back when it ate into another purpose's reserve (two processes raced for the last
        unreserved call: both may give it back, neither over-spends)."""
        if purpose in self.reserves:
            self._incr(self._purpose_key(purpose))
        if day_used + self._held_for_others(purpose, self._purposes_used()) <= self.per_day:
            return True
        if purpose in self.reserves:
            self._call("decr", self._purpose_key(purpose), default=0)
        self._call("decr", self._day_key(), default=0)
        return False

    def note_retry_after(self, seconds: float) -> None:
        """The vendor answered 429 (with `Retry-After: seconds`, or a guess): nobody calls it
        until then, in any process."""
        seconds = max(1.0, min(float(seconds), 86400.0))
        until = self._clock() + seconds
        self._call("set", f"{self.prefix}:block", until, int(seconds) + 1)

    def exhaust_day(self) -> None:
        """The vendor said the day's calls are spent: no more until the next UTC day."""
        if self.per_day:
            self._call("set", self._day_key(), self.per_day, 2 * 86400)
        now = datetime.fromtimestamp(self._clock(), UTC)
        tomorrow = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        self.note_retry_after((tomorrow - now).total_seconds())

    # -- entitlements --

    def mark_unentitled(self, capability: str, *, ttl: int = 86400) -> None:
        """The vendor refused `capability` (403): no such calls for `ttl` seconds."""
        self._call("set", f"{self.prefix}:noent:{capability}", 1, ttl)
        self._entitled[capability] = (False, self._monotonic() + min(ttl, MINUTE))

    def is_entitled(self, capability: str) -> bool:
        cached = self._entitled.get(capability)
        if cached and cached[1] > self._monotonic():
            return cached[0]
        refused = self._call("get", f"{self.prefix}:noent:{capability}", default=None)
        entitled = refused is None
        self._entitled[capability] = (entitled, self._monotonic() + MINUTE)
        return entitled

    # -- reading --

    def remaining(self) -> dict[str, Any]:
        """{"minute": calls free now (None: no limit), "day": calls left today (None: no
        cap), "blocked_for": seconds of Retry-After block left, "calls": calls this process
        took, "waited": seconds it waited}."""
        now = self._clock()
        tokens = [f"{self.prefix}:t{i}" for i in range(self.per_minute)]
        found = self._call("get_many", [*tokens, f"{self.prefix}:block"], default={}) or {}
        blocked = _float(found.get(f"{self.prefix}:block")) or 0.0
        return {
            "minute": sum(t not in found for t in tokens) if tokens else None,
            "day": self.day_left(),
            "blocked_for": round(max(0.0, blocked - now), 3),
            "calls": self.calls,
            "waited": round(self.waited, 3),
        }

    # -- the cache, and the fallback when it fails --

    def _day_key(self) -> str:
        return f"{self.prefix}:d{datetime.fromtimestamp(self._clock(), UTC):%Y%m%d}"

    def _day_used(self) -> int:
        return int(_float(self._call("get", self._day_key(), default=0)) or 0)

    def _day_incr(self) -> int:
        return self._incr(self._day_key())

    def _incr(self, key: str) -> int:
        try:
            return int(self._cache_or_default().incr(key))
        except ValueError:  # first call of the day
            if self._call("add", key, 1, 2 * 86400, default=True):
                return 1
            return int(self._call("incr", key, default=1))
        except Exception as exc:  # the budget never takes a job down
            _warn(exc)
            try:
                return int(_local_cache.incr(key))
            except ValueError:
                _local_cache.add(key, 1, 2 * 86400)
                return 1

    def _cache_or_default(self) -> Any:
        return self._cache if self._cache is not None else default_cache

    def _call(self, method: str, *args: Any, default: Any = None) -> Any:
        try:
            return getattr(self._cache_or_default(), method)(*args)
        except Exception as exc:  # Redis down, misconfigured, ...: degrade
            _warn(exc)
            try:
                return getattr(_local_cache, method)(*args)
            except Exception:
                return default


# KEYS: the minute tokens; ARGV: n, the time taken (int seconds), the window in ms, the token
# to start at. Atomic in Redis, so a token is held by exactly one taker, whether acquire()
# (SET NX one at a time) or this batch.
_BATCH_LUA = """
local want = tonumber(ARGV[1])
local count = #KEYS
local start = tonumber(ARGV[4])
local granted = 0
for j = 0, count - 1 do
  if granted >= want then break end
  if redis.call('SET', KEYS[1 + (start + j) % count], ARGV[2], 'PX', ARGV[3], 'NX') then
    granted = granted + 1
  end
end
return granted
"""


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _warn(exc: Exception) -> None:
    global _warned_at
    with _warn_lock:
        if time.monotonic() - _warned_at < MINUTE:
            return
        _warned_at = time.monotonic()
    logger.warning(
        "vendor budget: cache unavailable (%s); counting in this process", type(exc).__name__
    )


# --- the configured budgets ----------------------------------------------------------------

_budgets: dict[tuple[str, str, int, int, tuple], VendorBudget] = {}
_budgets_lock = threading.Lock()


def setting_prefix(vendor: str) -> str:
    return _SETTING_PREFIX.get(vendor, vendor.upper())


def vendor_limits(vendor: str) -> tuple[int, int]:
    """(calls per minute, calls per day) from settings; 0 means no limit."""
    prefix = setting_prefix(vendor)
    return (
        int(getattr(settings, f"{prefix}_CALLS_PER_MINUTE", 0) or 0),
        int(getattr(settings, f"{prefix}_CALLS_PER_DAY", 0) or 0),
    )


def vendor_reserves(vendor: str) -> dict[str, int]:
    """`<VENDOR>_DAY_RESERVES` ("feed:10,bars:8" or a list of such entries) as
    {"feed": 10, "bars": 8}; a malformed entry is a clear ValueError naming the setting."""
    name = f"{setting_prefix(vendor)}_DAY_RESERVES"
    raw = getattr(settings, name, None) or []
    entries = raw.split(",") if isinstance(raw, str) else list(raw)
    reserves: dict[str, int] = {}
    for entry in (str(e).strip() for e in entries):
        if not entry:
            continue
        purpose, _, calls = entry.partition(":")
        if not purpose.strip() or not calls.strip().isdigit():
            raise ValueError(f"{name}: {entry!r} is not 'purpose:calls', e.g. feed:10")
        reserves[purpose.strip()] = int(calls)
    return reserves


def budget_for(vendor: str, *, key: str | None = None) -> VendorBudget:
    """The budget of `vendor` and its configured key (`<VENDOR>_API_KEY` setting, or `key`),
    one object per process so its counters (`calls`, `waited`) add up across a run."""
    if key is None:
        name = _KEY_SETTING.get(vendor, f"{setting_prefix(vendor)}_API_KEY")
        key = str(getattr(settings, name, "") or "")
    per_minute, per_day = vendor_limits(vendor)
    reserves = vendor_reserves(vendor)
    ident = (
        vendor,
        hashlib.sha256(key.encode()).hexdigest(),
        per_minute,
        per_day,
        tuple(sorted(reserves.items())),
    )
    with _budgets_lock:
        budget = _budgets.get(ident)
        if budget is None:
            budget = _budgets[ident] = VendorBudget(
                vendor, key=key, per_minute=per_minute, per_day=per_day, reserves=reserves
            )
        return budget


@contextmanager
def budget_purpose(purpose: str) -> Iterator[None]:
    """Every `acquire()` under this block (without its own `purpose`) is for `purpose`
    ("feed", "quotes", "bars", ...): it may use that purpose's day reserve and the
    unreserved calls, never another purpose's reserve (module docstring, 7)."""
    token = _purpose.set(purpose)
    try:
        yield
    finally:
        _purpose.reset(token)


def spend_call(
    budget: VendorBudget, *, capability: str | None = None, wait_until: float | None = None
) -> str | None:
    """For adapters outside markets.providers (news, calendar, insiders): take one call of
    `budget` for `capability`, waiting up to `wait_until` (default the run's deadline). None
    when the call may be
    made, else why not: "not entitled" (the vendor refused `capability` within the day) or
    "budget: ..." (nothing free within the run's time, or the day's calls spent): the work
    is deferred to a later run, not failed."""
    if capability and not budget.is_entitled(capability):
        return f"not entitled: this key's plan has no {capability} (refused earlier today)"
    if budget.acquire(wait_until=wait_until):
        return None
    left = budget.remaining()
    if left["day"] == 0:
        return "budget: the day's calls are spent"
    if left["blocked_for"]:
        return f"budget: the vendor asked us to wait {left['blocked_for']:.0f} s"
    return "budget: no call free within the run's time"


def note_refusal(
    budget: VendorBudget,
    status: int,
    *,
    retry_after: float | None = None,
    capability: str | None = None,
) -> bool:
    """Tell `budget` what an HTTP `status` means for everyone: a 429 blocks the vendor for
    `retry_after` (60 s without one); a 403 on a `capability` marks it unentitled for a day.
    True when the refusal was a missing entitlement (the caller says "not entitled", not
    "failed")."""
    if status == 429:
        budget.note_retry_after(retry_after or 60)
    elif status == 403 and capability:
        budget.mark_unentitled(capability)
        return True
    return False


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (the HTTP-date form and junk give None)."""
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < 86400 * 2 else None


@contextmanager
def run_deadline(seconds: float | None) -> Iterator[float | None]:
    """Every `acquire()` under this block (without its own `wait_until`) waits up to
    `seconds` from now: a job's time budget. None: no waiting."""
    deadline = None if seconds is None else time.monotonic() + max(0.0, seconds)
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


def current_deadline() -> float | None:
    return _deadline.get()


def deadline_clock() -> float:
    """The clock `wait_until` and `run_deadline` deadlines are on (time.monotonic)."""
    return time.monotonic()
