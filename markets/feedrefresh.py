"""The feed's quote refresher: one refresher per process group, out of band, on the vendor
budget, for the union of watched symbols.

Every web process runs `REFRESHER` in a daemon thread, started by the first feed poll the
process serves (under gunicorn that is in each worker after the fork; with `runserver` in
the serving process). No request ever waits on it. Each `tick()`, every
MARKET_QUOTE_STALE_SECONDS (60 s):

1. nothing while the market is closed, without a feed vendor (MARKET_FEED_PROVIDERS with a
   key), or while this process has served no poll for MARKET_FEED_IDLE_SECONDS (then it
   also lets its lease go, so a busier process takes over);
2. the lease (markets.feedcache.FeedLease): one command takes or renews it and returns the
   shared generation; a process that does not get it sleeps until the current lease ends;
3. the due symbols: the union of watched symbols (polled lately in this process first, then
   the dashboard's index ETFs, then every registered source: watchlists and holdings) whose
   quote is older than the stale window and that this process did not ask a vendor for
   within it (a vendor that refused the whole call, 429 or 403, does not count: the next
   vendor is asked);
4. per vendor, the calls the due symbols need, at most MARKET_FEED_BUDGET_SHARE (0.5) of the
   vendor's minute limit a minute (MARKET_FEED_CALLS_PER_MINUTE, 2, for a vendor without
   one), taken from the vendor's shared budget (markets.budget) in ONE batch per tick
   (`acquire_many`: 2 Redis commands however many calls) without waiting, so the jobs keep
   the rest of the minute; a batching vendor answers up to 100 symbols a call, the others one
   each (Finnhub's free 60 a minute: 30 symbols a minute for the feed). The calls are made
   under `budget_purpose("feed")`. A 429 blocks the vendor for its Retry-After in every
   process; a 401 or 403 marks the vendor's quote capability unentitled for a day, so it is
   not asked again. The batch's tokens are held SPREAD_SECONDS past the minute and no granted
   call starts later, so the vendor never sees more than its limit in a rolling minute;
5. the fetched quotes are written and the feed invalidated (one command), unless the lease
   may have run out meanwhile (each call is bounded by the session timeout and no call starts
   past the lease's own deadline); that is logged, never silent.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from markets import calendar
from markets.budget import VendorBudget, budget_for, budget_purpose
from markets.feedcache import FeedLease, feed_invalidate
from markets.models import Ticker
from markets.providers import (
    PROVIDERS,
    Provider,
    ProviderError,
    QuoteRecord,
    RateLimited,
    build_providers,
)
from markets.services import IngestError, quotes_upsert
from markets.vendors import vendor_base_urls, vendor_keys
from qunex.http import QunexSession, make_session

logger = logging.getLogger(__name__)

INDEX_SYMBOLS = ("SPY", "QQQ", "DIA", "IWM")  # the dashboard's index row (markets.selectors)
QUOTE_CAPABILITY = {"polygon": "snapshot"}  # what a vendor's quotes are called in its budget
BATCH = 100  # symbols per call of a batching vendor
ENTITLEMENT_SECONDS = 600  # how long a refresher trusts a vendor's "entitled" answer
# A tick's granted calls are made within this many seconds of the grant (none starts later):
# the budget holds each token this much longer than a minute (VendorBudget.acquire_many).
SPREAD_SECONDS = 15.0
_POLLED_MAX = 10_000
_START_LOCK = threading.Lock()

WatchedSource = Callable[[], Iterable[str]]
_SOURCES: list[WatchedSource] = []


def watched_source_register(source: WatchedSource) -> None:
    """Add a source of watched symbols (apps that keep watchlists or holdings register one
    in their AppConfig.ready: markets imports no other app)."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def stale_seconds() -> float:
    return max(1.0, float(getattr(settings, "MARKET_QUOTE_STALE_SECONDS", 60)))


def idle_seconds() -> float:
    return float(getattr(settings, "MARKET_FEED_IDLE_SECONDS", 300))


def calls_per_tick(budget: VendorBudget | None = None) -> int:
    """The feed's calls a tick from `budget`'s vendor: MARKET_FEED_BUDGET_SHARE (0.5) of its
    minute limit (Finnhub's 60: 30 a minute, the rest left to the jobs), or
    MARKET_FEED_CALLS_PER_MINUTE for a vendor without one, scaled to the tick."""
    vendor_minute = budget.per_minute if budget is not None else 0
    if vendor_minute:
        share = min(1.0, max(0.0, float(getattr(settings, "MARKET_FEED_BUDGET_SHARE", 0.5))))
        per_minute = share * vendor_minute
    else:
        per_minute = float(getattr(settings, "MARKET_FEED_CALLS_PER_MINUTE", 2))
    calls = int(per_minute * stale_seconds() / 60 + 1e-9)
    return max(1, calls) if per_minute > 0 else 0


def feed_providers() -> list[Provider]:
    """The feed's vendors (MARKET_FEED_PROVIDERS order) that have a key, on the feed's own
    session: short timeout, no retries (a 429 comes back here and blocks the budget)."""
    names = [n for n in getattr(settings, "MARKET_FEED_PROVIDERS", ["polygon", "finnhub"])]
    names = [n for n in names if n.strip().lower() in PROVIDERS]
    return build_providers(names, vendor_keys(), _feed_session(), vendor_base_urls())


@lru_cache(maxsize=1)
def _feed_session() -> QunexSession:
    return make_session(retries=0, timeout=5, max_wait=0)


@dataclass
class TickReport:
    """What one tick did: `state` (closed, no-vendor, idle, follower, nothing-due, refreshed,
    lease-lost), the symbols asked, the quotes written, calls per vendor, vendors skipped."""

    state: str
    asked: list[str] = field(default_factory=list)
    written: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    skipped: dict[str, str] = field(default_factory=dict)


class QuoteRefresher:
    """See the module docstring. `tick()` is the whole job; the thread only calls it."""

    def __init__(self) -> None:
        self.lease = FeedLease(ttl=90)
        self._polled: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._last_poll = float("-inf")
        self._asked: dict[str, float] = {}  # symbol -> when this process last asked a vendor
        self._follow_until = float("-inf")
        self._entitled: dict[tuple[str, str], tuple[bool, float]] = {}
        self._tick_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    # -- what the feed tells it (every poll: must stay cheap) --

    def note_poll(self, digest: str, symbols: Sequence[str]) -> None:
        now = time.monotonic()
        was_idle = now - self._last_poll > idle_seconds()
        self._last_poll = now
        seen = self._polled.get(digest)
        if seen is None or now - seen[0] > 5:
            if len(self._polled) >= _POLLED_MAX:
                self._polled.clear()
            self._polled[digest] = (now, tuple(symbols))
        if self._pid != os.getpid():
            self.start()
        if was_idle:
            self._wake.set()  # back from idle: refresh now rather than at the next tick

    # -- the thread --

    def start(self) -> None:
        """Start this process's thread (again after a fork: threads do not survive one)."""
        if not getattr(settings, "MARKET_FEED_REFRESHER", True):
            return
        with _START_LOCK:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self.lease = FeedLease(ttl=max(90.0, 3 * stale_seconds()))  # a fork: a new owner
            self._thread = threading.Thread(target=self._run, name="quote-refresher", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait(stale_seconds() * random.uniform(0.9, 1.1))
                self._wake.clear()
                if not getattr(settings, "MARKET_FEED_REFRESHER", True):
                    self._pid = None  # switched off: a later poll may start it again
                    self.lease.release()
                    return
                try:
                    self.tick()
                except Exception:  # the thread must outlive any one failure
                    logger.exception("quote refresher tick failed")
                finally:
                    close_old_connections()
        finally:
            connections.close_all()  # this thread's own connections, not left to the GC

    # -- one tick --

    def tick(self, *, now: datetime | None = None) -> TickReport:
        if not self._tick_lock.acquire(blocking=False):
            return TickReport("busy")
        try:
            return self._tick(now or timezone.now())
        finally:
            self._tick_lock.release()

    def _tick(self, now: datetime) -> TickReport:
        if not calendar.is_open(now):
            self.lease.release()
            return TickReport("closed")
        if time.monotonic() - self._last_poll > idle_seconds():
            self.lease.release()
            return TickReport("idle")
        providers = feed_providers()
        if not providers:
            return TickReport("no-vendor")
        if time.monotonic() < self._follow_until:
            return TickReport("follower")
        due = self.due_symbols(now)
        if not due:  # no command either: a quiet day costs no Redis
            return TickReport("nothing-due")
        held, left = self.lease.hold()
        if not held:
            self._follow_until = time.monotonic() + left
            return TickReport("follower")
        report = TickReport("refreshed", asked=[])
        records = self._fetch(providers, due, report)
        if not self.lease.valid():
            logger.warning(
                "quote refresh outlived its lease (%.0f s); %d quote(s) not written",
                self.lease.ttl,
                len(records),
            )
            report.state = "lease-lost"
            return report
        if records:
            report.written = quotes_write(records=records)
        return report

    def watched_symbols(self) -> list[str]:
        """Polled lately in this process, the index ETFs, then every registered source."""
        horizon = time.monotonic() - idle_seconds()
        recent = sorted(
            (entry for entry in self._polled.values() if entry[0] >= horizon), reverse=True
        )
        ordered: dict[str, None] = {}
        for _, symbols in recent:
            ordered.update(dict.fromkeys(symbols))
        ordered.update(dict.fromkeys(INDEX_SYMBOLS))
        for source in _SOURCES:
            try:
                ordered.update(dict.fromkeys(s.upper() for s in source()))
            except Exception:
                logger.exception("watched symbols source %r failed", source)
        return list(ordered)

    def due_symbols(self, now: datetime) -> list[str]:
        """Watched, listed, active symbols whose quote is older than the stale window and
        that this process did not ask for within it (a vendor that keeps answering the same
        old quote does not hold the head of the queue), in watched order (2 queries)."""
        window = stale_seconds()
        wanted = self.watched_symbols()
        rows = (
            Ticker.objects.active()
            .filter(symbol__in=wanted)
            .values_list("symbol", "quote__updated_at")
        )
        updated = dict(rows)
        clock = time.monotonic()
        due = [
            s
            for s in wanted
            if s in updated
            and (updated[s] is None or (now - updated[s]).total_seconds() > window)
            and clock - self._asked.get(s, float("-inf")) > window
        ]
        return due

    def _fetch(
        self, providers: Sequence[Provider], due: list[str], report: TickReport
    ) -> list[QuoteRecord]:
        with budget_purpose("feed"):  # Alpha Vantage's day reserves, should it be a feed vendor
            return self._fetch_all(providers, due, report)

    def _fetch_all(
        self, providers: Sequence[Provider], due: list[str], report: TickReport
    ) -> list[QuoteRecord]:
        pending = list(due)
        found: dict[str, QuoteRecord] = {}
        for provider in providers:
            if not pending:
                break
            budget = budget_for(provider.name)
            capability = QUOTE_CAPABILITY.get(provider.name, "quote")
            if not self._is_entitled(budget, capability):
                report.skipped[provider.name] = f"not entitled to {capability}"
                continue
            size = BATCH if provider.batch_quotes else 1
            needed = min(calls_per_tick(budget), -(-len(pending) // size))
            # The tick's calls in one batch (2 Redis commands), never waiting: the jobs keep
            # the rest of the minute.
            calls_left = (
                budget.acquire_many(needed, wait_until=None, spread=SPREAD_SECONDS) if needed else 0
            )
            granted_until = time.monotonic() + SPREAD_SECONDS
            if calls_left <= 0:
                report.skipped[provider.name] = "budget spent"
                continue
            chunk: list[str] = []
            try:
                for start in range(0, len(pending), size):
                    if calls_left <= 0 or not self.lease.valid():
                        break
                    if time.monotonic() > granted_until:
                        report.skipped[provider.name] = "out of time"
                        break
                    calls_left -= 1
                    report.calls[provider.name] += 1
                    chunk = pending[start : start + size]
                    report.asked.extend(s for s in chunk if s not in report.asked)
                    found.update(self._ask(provider, chunk))
                    self._note_asked(chunk)  # answered, or unknown to the vendor
            except RateLimited as exc:
                budget.note_retry_after(exc.retry_after or 60)
                report.skipped[provider.name] = "rate-limited"
                logger.warning("feed quotes: %s rate-limited; blocked for every process", exc)
            except ProviderError as exc:
                if _forbidden(exc):
                    budget.mark_unentitled(capability)
                    self._entitled[(budget.vendor, capability)] = (False, time.monotonic() + 86400)
                    report.skipped[provider.name] = f"refused {capability}"
                    logger.warning("feed quotes: %s; not asked again for a day", exc)
                else:  # a failing vendor is asked again after the stale window
                    self._note_asked(chunk)
                    report.skipped[provider.name] = "failed"
                    logger.warning("feed quotes: %s", exc)
            pending = [s for s in pending if s not in found]
        return list(found.values())

    @staticmethod
    def _ask(provider: Provider, chunk: list[str]) -> dict[str, QuoteRecord]:
        """One vendor call. A single symbol the vendor does not know is left out; a 429,
        401/403 or an answer for the whole call raises to the caller."""
        if provider.batch_quotes:
            return provider.quotes(chunk)
        try:
            return {chunk[0]: provider.quote(chunk[0])}
        except RateLimited:
            raise
        except ProviderError as exc:
            if _forbidden(exc):
                raise
            logger.info("feed quote %s: %s", chunk[0], exc)
            return {}

    def _is_entitled(self, budget, capability: str) -> bool:
        """The budget's answer, asked at most every ENTITLEMENT_SECONDS by this refresher (a
        cache read each time otherwise); a refusal it saw itself holds for the day."""
        key = (budget.vendor, capability)
        known = self._entitled.get(key)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        entitled = budget.is_entitled(capability)
        self._entitled[key] = (entitled, time.monotonic() + ENTITLEMENT_SECONDS)
        return entitled

    def _note_asked(self, symbols: Iterable[str]) -> None:
        clock = time.monotonic()
        if len(self._asked) >= _POLLED_MAX:
            self._asked.clear()
        for symbol in symbols:
            self._asked[symbol] = clock

    def forget(self) -> None:
        """Back to a fresh process's state (tests)."""
        self.lease.release()
        self._polled.clear()
        self._asked.clear()
        self._entitled.clear()
        self._last_poll = float("-inf")
        self._follow_until = float("-inf")


def quotes_write(*, records: Sequence[QuoteRecord]) -> int:
    """Store fetched quotes through markets.services.quotes_upsert and invalidate the feed.
    A record the service refuses (IngestError) is logged and left out; the rest are stored."""
    try:
        written = quotes_upsert(quotes=records).written
    except IngestError:
        written = 0
        for record in records:
            try:
                written += quotes_upsert(quotes=[record]).written
            except IngestError as exc:
                logger.warning("quote from %s not stored: %s", record.source, exc)
    if written:
        feed_invalidate()
    return written


def _forbidden(exc: ProviderError) -> bool:
    return exc.message.startswith(("HTTP 401", "HTTP 403"))


REFRESHER = QuoteRefresher()
