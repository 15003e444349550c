"""The feed's out-of-band quote refresher (markets/feedrefresh.py) and its lease
(markets/feedcache.py): the union of watched symbols, one refresher per process group, the
vendor budget, remembered 429/403 answers, no calls while the market is closed, and no
request ever waiting on a vendor."""

from __future__ import annotations

import logging
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from markets import budget, feedrefresh, quotes
from markets.budget import budget_for
from markets.feedcache import FeedLease
from markets.feedrefresh import QuoteRefresher
from markets.models import Quote
from markets.providers import ProviderError, RateLimited
from portfolios.models import Portfolio, Transaction, Watchlist, WatchlistItem
from tests.factories import QuoteFactory, TickerFactory, UserFactory
from tests.markets.test_feed import CLOSED, FEED, OPEN, FakeVendor, _stale_quotes

pytestmark = pytest.mark.django_db

# The Redis/local-memory switch of test_feed.py: the lease must hold on both.
from tests.markets.test_feed import cache_backend, redis_commands  # noqa: E402, F401


class SingleVendor(FakeVendor):
    """A vendor without batching (Finnhub's /quote): one call per symbol."""

    batch_quotes = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.error: ProviderError | None = None

    def quote(self, symbol):
        if self.error is not None:
            with self._lock:
                self.calls.append([symbol])
            raise self.error
        return self.quotes([symbol])[symbol]


@pytest.fixture
def vendor(settings, monkeypatch):
    settings.POLYGON_API_KEY = "test-key"
    settings.MARKET_QUOTE_STALE_SECONDS = 30
    settings.MARKET_FEED_CALLS_PER_MINUTE = 60
    fake = FakeVendor()
    monkeypatch.setattr(feedrefresh, "feed_providers", lambda: [fake])
    return fake


@pytest.fixture
def single(settings, monkeypatch):
    settings.MARKET_QUOTE_STALE_SECONDS = 30
    settings.MARKET_FEED_CALLS_PER_MINUTE = 60
    fake = SingleVendor()
    monkeypatch.setattr(feedrefresh, "feed_providers", lambda: [fake])
    return fake


@pytest.fixture(autouse=True)
def _fresh_process():
    budget._budgets.clear()  # the budgets' in-process memory of entitlements
    quotes.feed_forget()
    feedrefresh.REFRESHER.forget()
    yield
    while _MADE:
        _MADE.pop().lease.release()
    quotes.feed_forget()
    feedrefresh.REFRESHER.forget()


_MADE: list[QuoteRefresher] = []


def _refresher(*symbols: str) -> QuoteRefresher:
    """A refresher of a process that has just served a poll of `symbols`."""
    refresher = QuoteRefresher()
    refresher.note_poll("poll", list(symbols) or ["SPY"])
    _MADE.append(refresher)
    return refresher


def _next_process(*symbols: str) -> QuoteRefresher:
    """As `_refresher`, after the earlier refreshers let their leases go (they went idle)."""
    while _MADE:
        _MADE.pop().lease.release()
    return _refresher(*symbols)


def _watch(user, *symbols: str) -> None:
    watchlist = Watchlist.objects.create(owner=user, name=f"w{user.pk}")
    for symbol in symbols:
        ticker = TickerFactory._meta.model.objects.get(symbol=symbol)
        WatchlistItem.objects.create(watchlist=watchlist, ticker=ticker)


# --- what is refreshed -------------------------------------------------------------------------


def test_the_union_of_every_users_watchlists_and_holdings_is_one_call(vendor):
    """Vendor calls do not grow with users: 40 users watching overlapping symbols, one holding
    another, cost ONE batched call for the union (the index ETFs included)."""
    symbols = [f"S{i:02d}" for i in range(12)]
    _stale_quotes(*symbols, "SPY", "HELD", "NOBODY", at=OPEN)
    for n in range(40):
        _watch(UserFactory(), *(symbols[(n + k) % 12] for k in range(4)))
    owner = UserFactory()
    portfolio = Portfolio.objects.create(owner=owner, name="p")
    Transaction.objects.create(
        portfolio=portfolio,
        type="buy",
        ticker=TickerFactory._meta.model.objects.get(symbol="HELD"),
        trade_date=date(2025, 6, 2),
        quantity=Decimal(1),
        price=Decimal(10),
    )
    with time_machine.travel(OPEN, tick=False):
        report = _refresher("S03").tick()
    assert report.state == "refreshed"
    assert len(vendor.calls) == 1
    assert vendor.calls[0][:1] == ["S03"]  # what this process's pollers watch comes first
    assert set(vendor.calls[0]) == {*symbols, "SPY", "HELD"}  # not NOBODY: nobody watches it
    assert report.written == 14
    assert Quote.objects.get(ticker__symbol="S07").price == Decimal("123.45")


def test_only_stale_symbols_are_asked_for(vendor):
    _stale_quotes("AAPL", at=OPEN)
    with time_machine.travel(OPEN - timedelta(seconds=3), tick=False):
        QuoteFactory(ticker=TickerFactory(symbol="MSFT"))
    with time_machine.travel(OPEN, tick=False):
        _refresher("AAPL", "MSFT").tick()
    assert vendor.calls == [["AAPL"]]


def test_a_write_reaches_every_poller_through_the_generation(client, vendor):
    _stale_quotes("AAPL", at=OPEN)
    with time_machine.travel(OPEN, tick=False):
        etag = client.get(FEED, {"symbols": "AAPL"})["ETag"]
        _refresher("AAPL").tick()
        fresh = client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    assert Decimal(fresh.json()["quotes"][0]["price"]) == Decimal("123.45")


@pytest.mark.parametrize(
    ("when", "state"), [(CLOSED, "closed"), (OPEN - timedelta(hours=3), "closed")]
)
def test_no_quote_calls_while_the_market_is_closed(vendor, when, state):
    _stale_quotes("AAPL", at=when)
    with time_machine.travel(when, tick=False):
        assert _refresher("AAPL").tick().state == state
    assert vendor.calls == []


def test_a_process_without_polls_does_not_refresh(vendor, settings):
    settings.MARKET_FEED_IDLE_SECONDS = 300
    _stale_quotes("AAPL", at=OPEN)
    refresher = QuoteRefresher()  # never served a poll
    with time_machine.travel(OPEN, tick=False):
        assert refresher.tick().state == "idle"
    assert vendor.calls == []


def test_alpha_vantage_is_left_to_the_jobs(settings):
    """Its 25 calls a day are not the feed's: with only that key the feed has no vendor."""
    settings.POLYGON_API_KEY = settings.FINNHUB_API_KEY = ""
    settings.ALPHA_VANTAGE_API_KEY = "av-key"
    assert feedrefresh.feed_providers() == []
    _stale_quotes("AAPL", at=OPEN)
    with time_machine.travel(OPEN, tick=False):
        assert _refresher("AAPL").tick().state == "no-vendor"


# --- the vendor budget -------------------------------------------------------------------------


def test_the_feed_takes_at_most_its_share_of_calls_per_tick(single, settings):
    """A vendor without a minute limit of its own, one symbol a call: at
    MARKET_FEED_CALLS_PER_MINUTE=4 and a 30 s tick, 2 calls per tick."""
    settings.MARKET_FEED_CALLS_PER_MINUTE = 4
    symbols = [f"S{i}" for i in range(6)]
    _stale_quotes(*symbols, at=OPEN)
    refresher = _refresher(*symbols)
    with time_machine.travel(OPEN, tick=False):
        report = refresher.tick()
    assert single.calls == [["S0"], ["S1"]]
    assert report.written == 2


def test_no_call_when_the_shared_budget_is_spent(vendor, settings):
    settings.FAKEVENDOR_CALLS_PER_MINUTE = 1
    _stale_quotes("AAPL", at=OPEN)
    with time_machine.travel(OPEN, tick=False):
        assert budget_for("fakevendor").acquire()  # a job took the minute's only call
        report = _refresher("AAPL").tick()
    assert vendor.calls == []
    assert report.skipped == {"fakevendor": "budget spent"}


def test_a_429_blocks_the_vendor_for_every_process_until_retry_after(single):
    single.error = RateLimited("HTTP 429", vendor=single.name, retry_after=40)
    _stale_quotes("AAPL", "MSFT", at=OPEN)
    with time_machine.travel(OPEN, tick=False):
        assert _refresher("AAPL", "MSFT").tick().skipped == {"fakevendor": "rate-limited"}
    assert len(single.calls) == 1  # not asked for MSFT after the 429
    single.error = None
    with time_machine.travel(OPEN + timedelta(seconds=30), tick=False):
        other = _next_process("AAPL", "MSFT").tick()  # another process, within Retry-After
        assert other.skipped == {"fakevendor": "budget spent"}
    assert len(single.calls) == 1
    with time_machine.travel(OPEN + timedelta(seconds=41), tick=False):
        assert _next_process("AAPL", "MSFT").tick().state == "refreshed"
    assert len(single.calls) == 3


def test_a_403_is_remembered_for_a_day(single, caplog):
    """A vendor that refuses quotes (Polygon's free key and snapshots) is not asked again
    for a day, by any process."""
    single.error = ProviderError("HTTP 403 NOT_AUTHORIZED", permanent=True, vendor=single.name)
    _stale_quotes("AAPL", "MSFT", at=OPEN)
    with time_machine.travel(OPEN, tick=False):
        first = _refresher("AAPL", "MSFT").tick()
    assert first.skipped == {"fakevendor": "refused quote"}
    assert "not asked again for a day" in caplog.text
    assert budget_for("fakevendor").is_entitled("quote") is False
    for hours in (1, 23):
        with time_machine.travel(OPEN + timedelta(hours=hours, minutes=-30), tick=False):
            report = _next_process("AAPL").tick()
            assert report.skipped == {"fakevendor": "not entitled to quote"}
    assert len(single.calls) == 1


def test_a_failing_vendor_is_not_hammered(vendor):
    vendor.fail = True
    _stale_quotes("AAPL", at=OPEN)
    refresher = _refresher("AAPL")
    with time_machine.travel(OPEN, tick=False):
        for _ in range(3):
            report = refresher.tick()
            assert report.written == 0, report
    assert len(vendor.calls) == 1  # asked again only after the stale window
    assert Quote.objects.get(ticker__symbol="AAPL").price == Decimal("100")


# --- one refresher per process group: the lease ------------------------------------------------


def test_one_refresher_per_process_group(cache_backend, vendor):  # noqa: F811
    vendor.fail = True  # the quote stays stale: the second process would have work to do
    _stale_quotes("AAPL", at=OPEN)
    first, second = _refresher("AAPL"), _refresher("AAPL")
    with time_machine.travel(OPEN, tick=False):
        assert first.tick().state == "refreshed"
        assert second.tick().state == "follower"
        assert second.tick().state == "follower"  # sleeps out the lease: no command
    assert len(vendor.calls) == 1
    first.lease.release()


def test_the_lease_is_released_only_by_its_owner_and_cannot_be_outlived(cache_backend):  # noqa: F811
    slow, other = FeedLease("t:lease", ttl=0.3, margin=0.05), FeedLease("t:lease", ttl=5)
    assert slow.hold()[0] is True
    assert slow.valid()
    held, left = other.hold()
    assert held is False and 0 < left <= 0.3
    time.sleep(0.35)  # the slow owner's lease runs out while it is still busy
    assert slow.valid() is False  # and it knows, by its own clock
    assert other.hold()[0] is True
    slow.release()  # today's `finally: delete` would remove other's lease here
    assert FeedLease("t:lease", ttl=5).hold()[0] is False
    assert slow.hold()[0] is False
    other.release()
    last = FeedLease("t:lease", ttl=5)
    assert last.hold()[0] is True
    last.release()


def test_a_refresh_that_outlives_its_lease_does_not_write_and_says_so(vendor, caplog):
    caplog.set_level(logging.WARNING, logger="markets.feedrefresh")
    _stale_quotes("AAPL", at=OPEN)
    refresher = _refresher("AAPL")
    real = vendor.quotes

    def slow(symbols):
        refresher.lease.held_until = time.monotonic()  # the call took the whole lease
        return real(symbols)

    vendor.quotes = slow
    with time_machine.travel(OPEN, tick=False):
        report = refresher.tick()
    assert report.state == "lease-lost"
    assert Quote.objects.get(ticker__symbol="AAPL").price == Decimal("100")
    assert "outlived its lease" in caplog.text


# --- the thread: a poll never waits ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_poll_never_waits_on_a_slow_vendor(client, vendor, settings):
    """With the background refresher on, a poll of stale quotes is answered, with the
    stored prices, while the refresher's thread is still inside the vendor call (held
    there until the answer is in); a later poll shows what the refresher wrote."""
    sessions_before = _other_sessions()
    settings.MARKET_FEED_REFRESHER = True
    _stale_quotes("AAPL", at=OPEN)
    entered, release = threading.Event(), threading.Event()
    real = vendor.quotes

    def held(symbols):
        entered.set()
        release.wait(30)
        return real(symbols)

    vendor.quotes = held
    try:
        with time_machine.travel(OPEN, tick=True):
            body = client.get(FEED, {"symbols": "AAPL"}).json()
            assert not release.is_set()  # answered without waiting for the vendor
            assert Decimal(body["quotes"][0]["price"]) == Decimal("100")
            assert entered.wait(30)  # the thread was woken by the poll and is in the call
            release.set()
            for _ in range(300):  # the write, then the generation bump, in the thread
                after = client.get(FEED, {"symbols": "AAPL"}).json()
                if Decimal(after["quotes"][0]["price"]) == Decimal("123.45"):
                    break
                time.sleep(0.1)
        assert Decimal(after["quotes"][0]["price"]) == Decimal("123.45")
        assert vendor.calls == [["AAPL"]]
    finally:
        release.set()
        settings.MARKET_FEED_REFRESHER = False
        feedrefresh.REFRESHER._wake.set()  # the thread sees the setting and ends
        feedrefresh.REFRESHER._thread.join(10)
        assert not feedrefresh.REFRESHER._thread.is_alive()
        if sessions_before is not None:  # it closed its own connection on the way out
            assert _other_sessions() == sessions_before
        connection.close()


def _other_sessions() -> int | None:
    """Sessions on the test database besides this thread's (PostgreSQL; None elsewhere)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_a_quiet_tick_sends_no_redis_command(redis_commands, vendor):  # noqa: F811
    """Nothing due (every watched quote fresh): no lease, no budget, no command at all."""
    with time_machine.travel(OPEN - timedelta(seconds=5), tick=False):
        QuoteFactory(ticker=TickerFactory(symbol="AAPL"))
    with time_machine.travel(OPEN, tick=False):
        refresher = _refresher("AAPL")
        redis_commands.clear()
        assert refresher.tick().state == "nothing-due"
    assert redis_commands == []
    assert vendor.calls == []


# --- the feed's share of the vendor's minute, in one batch a tick ----------------------------


def test_a_60_symbol_union_is_refreshed_in_two_ticks_on_half_of_finnhubs_minute(single, settings):
    """Finnhub's free 60 calls a minute, one symbol a call: the feed takes
    MARKET_FEED_BUDGET_SHARE (0.5) of them, 30 a 60 s tick, so 60 symbols take two ticks."""
    settings.MARKET_QUOTE_STALE_SECONDS = 60
    settings.FAKEVENDOR_CALLS_PER_MINUTE = 60
    settings.MARKET_FEED_BUDGET_SHARE = 0.5
    symbols = [f"S{i:02d}" for i in range(60)]
    _stale_quotes(*symbols, at=OPEN)
    refresher = _refresher(*symbols)
    with time_machine.travel(OPEN + timedelta(seconds=5), tick=False):
        first = refresher.tick()
    assert first.calls == {"fakevendor": 30} and first.written == 30
    with time_machine.travel(OPEN + timedelta(seconds=66), tick=False):
        second = refresher.tick()
    assert second.calls == {"fakevendor": 30} and second.written == 30
    assert sorted(s for call in single.calls for s in call) == symbols


def test_the_feed_takes_only_what_the_jobs_left_of_the_minute(single, settings):
    settings.FAKEVENDOR_CALLS_PER_MINUTE = 10
    settings.MARKET_FEED_BUDGET_SHARE = 1.0
    symbols = [f"S{i}" for i in range(8)]
    _stale_quotes(*symbols, at=OPEN)
    with time_machine.travel(OPEN, tick=False):
        job = budget_for("fakevendor")
        assert all(job.acquire() for _ in range(7))  # a job took 7 of 10
        report = _refresher(*symbols).tick()
        assert report.calls == {"fakevendor": 3}
        assert job.acquire() is False  # the rolling minute holds 10, not more


def test_the_feeds_calls_are_made_for_the_feed_purpose(single, monkeypatch):
    seen: list[str] = []
    real = single.quote

    def quote(symbol):
        seen.append(budget._purpose.get())
        return real(symbol)

    monkeypatch.setattr(single, "quote", quote)
    _stale_quotes("AAPL", at=OPEN)
    with time_machine.travel(OPEN, tick=False):
        _refresher("AAPL").tick()
    assert seen == ["feed"]


def test_a_refreshing_tick_costs_the_same_redis_commands_for_1_call_and_for_15(
    redis_commands,  # noqa: F811
    single,
    settings,
):
    """Pinned: the lease, the budget's Retry-After GET and ONE EVAL for the whole batch, and
    the feed invalidation; the entitlement is read once per ENTITLEMENT_SECONDS."""
    settings.FAKEVENDOR_CALLS_PER_MINUTE = 60  # x 0.5 share x 30 s tick: 15 calls a tick
    quotes.feed_invalidate()  # the generation exists (its first write is one SET more)
    counts = []
    for n, at in ((1, OPEN), (20, OPEN + timedelta(minutes=5))):
        symbols = [f"N{n}S{i:02d}" for i in range(n)]
        _stale_quotes(*symbols, at=at)
        with time_machine.travel(at, tick=False):
            refresher = _refresher(*symbols)
            refresher._entitled[("fakevendor", "quote")] = (True, time.monotonic() + 600)
            redis_commands.clear()
            report = refresher.tick()
            counts.append(list(redis_commands))
            refresher.lease.release()
        assert sum(report.calls.values()) == min(n, 15)
        assert report.written == min(n, 15)
    # The lease (EVALSHA), the Retry-After block (GET), the batch (EVAL), and the feed
    # generation's INCR (django-redis sends it as an EVAL): 4, for 1 call as for 15.
    assert counts == [[b"EVALSHA", b"GET", b"EVAL", b"EVAL"]] * 2


def test_no_granted_call_starts_after_the_spread(single, settings, monkeypatch):
    """The budget holds the batch's tokens a minute past SPREAD_SECONDS: a slow vendor's
    later calls are not made (the grant is left unused, never over the vendor's minute)."""
    settings.FAKEVENDOR_CALLS_PER_MINUTE = 60
    monkeypatch.setattr(feedrefresh, "SPREAD_SECONDS", 0.25)
    real = single.quote

    def slow(symbol):
        time.sleep(0.1)
        return real(symbol)

    monkeypatch.setattr(single, "quote", slow)
    symbols = [f"S{i}" for i in range(10)]
    _stale_quotes(*symbols, at=OPEN)
    with time_machine.travel(OPEN, tick=False):
        report = _refresher(*symbols).tick()
    assert 1 <= len(single.calls) <= 4
    assert report.skipped == {"fakevendor": "out of time"}
    assert report.written == len(single.calls)
