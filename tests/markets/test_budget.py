"""The shared vendor budget: a rolling minute, a day cap, Retry-After, entitlements, and a
cache that fails."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from markets import budget as budget_module
from markets.budget import VendorBudget, budget_for, run_deadline


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class ClockCache:
    """A dict cache whose expiry follows the fake clock (LocMem uses the real one)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.data: dict[str, tuple[object, float]] = {}
        self.commands = 0

    def _live(self, key):
        item = self.data.get(key)
        if item and item[1] > self.clock.now:
            return item
        self.data.pop(key, None)
        return None

    def get_many(self, keys):
        self.commands += 1
        return {k: self._live(k)[0] for k in keys if self._live(k)}

    def get(self, key, default=None):
        self.commands += 1
        item = self._live(key)
        return item[0] if item else default

    def add(self, key, value, timeout):
        self.commands += 1
        if self._live(key):
            return False
        self.data[key] = (value, self.clock.now + timeout)
        return True

    def set(self, key, value, timeout):
        self.commands += 1
        self.data[key] = (value, self.clock.now + timeout)

    def incr(self, key):
        self.commands += 1
        item = self._live(key)
        if not item:
            raise ValueError(key)
        self.data[key] = (item[0] + 1, item[1])
        return item[0] + 1


def make(clock, cache_, **kwargs) -> VendorBudget:
    return VendorBudget(
        "polygon",
        key="secret",
        cache=cache_,
        clock=clock.time,
        monotonic=clock.time,
        sleep=clock.sleep,
        **kwargs,
    )


def test_no_rolling_minute_holds_more_than_the_limit():
    clock = FakeClock()
    budget = make(clock, ClockCache(clock), per_minute=5)
    taken = []
    for _ in range(12):
        assert budget.acquire(wait_until=clock.now + 600)
        taken.append(clock.now)
        clock.now += 7  # a call takes some time
    for t in taken:
        assert sum(t <= u < t + 60 for u in taken) <= 5
    assert budget.calls == 12 and budget.waited > 0


def test_without_a_deadline_a_full_minute_answers_false_at_once():
    clock = FakeClock()
    budget = make(clock, ClockCache(clock), per_minute=2)
    assert budget.acquire() and budget.acquire()
    assert budget.acquire() is False
    assert clock.slept == []
    assert budget.acquire(wait_until=clock.now + 30) is False  # frees only after 60 s
    assert budget.acquire(wait_until=clock.now + 61) is True
    assert clock.slept == [60.0]


def test_two_processes_share_one_budget():
    clock = FakeClock()
    shared = ClockCache(clock)
    a, b = make(clock, shared, per_minute=3), make(clock, shared, per_minute=3)
    assert [a.acquire(), b.acquire(), a.acquire(), b.acquire()] == [True, True, True, False]
    assert a.remaining()["minute"] == 0


def test_day_cap_then_false_until_tomorrow():
    clock = FakeClock()
    budget = make(clock, ClockCache(clock), per_minute=0, per_day=3)
    assert [budget.acquire() for _ in range(4)] == [True, True, True, False]
    assert budget.acquire(wait_until=clock.now + 3600) is False
    assert budget.remaining()["day"] == 0
    clock.now += 86400
    assert budget.acquire()


def test_retry_after_blocks_every_process_and_is_waited_out():
    clock = FakeClock()
    shared = ClockCache(clock)
    a, b = make(clock, shared, per_minute=5), make(clock, shared, per_minute=5)
    a.note_retry_after(20)
    assert b.acquire() is False
    assert b.remaining()["blocked_for"] == 20
    assert b.acquire(wait_until=clock.now + 25) is True
    assert clock.slept == [20.0]


def test_exhaust_day_stops_calls_until_the_next_utc_day():
    clock = FakeClock()
    budget = make(clock, ClockCache(clock), per_minute=5, per_day=25)
    budget.exhaust_day()
    assert budget.acquire(wait_until=clock.now + 600) is False
    assert budget.remaining()["day"] == 0


def test_entitlement_is_remembered_across_processes_for_its_ttl():
    clock = FakeClock()
    shared = ClockCache(clock)
    a, b = make(clock, shared, per_minute=5), make(clock, shared, per_minute=5)
    assert b.is_entitled("snapshot")
    a.mark_unentitled("snapshot", ttl=86400)
    assert not a.is_entitled("snapshot")
    clock.now += 61  # b's one-minute memo of "entitled" has run out
    assert not b.is_entitled("snapshot")
    clock.now += 86400
    assert b.is_entitled("snapshot")


def test_redis_commands_per_call_stay_small():
    clock = FakeClock()
    shared = ClockCache(clock)
    budget = make(clock, shared, per_minute=60)
    for _ in range(30):
        assert budget.acquire()
    assert shared.commands == 2 * 30  # one get_many + one add per call
    capped = make(clock, ClockCache(clock), per_minute=5, per_day=25)
    capped._cache.commands = 0
    capped.acquire()
    assert capped._cache.commands <= 5  # + day counter get, incr (and add on the first)


class BrokenCache:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("redis is down")

        return fail


def test_a_broken_cache_degrades_to_a_per_process_budget():
    budget_module._local_cache.clear()
    budget = VendorBudget("finnhub", key="k", per_minute=2, per_day=10, cache=BrokenCache())
    assert budget.acquire() and budget.acquire()
    assert budget.acquire() is False
    budget.note_retry_after(5)
    budget.mark_unentitled("candles")
    assert not budget.is_entitled("candles")
    assert budget.remaining()["blocked_for"] > 0


def test_real_cache_with_a_short_window_waits_for_a_token():
    budget = VendorBudget("finnhub", key="k2", per_minute=2, window=0.3, cache=cache)
    start = time.monotonic()
    assert all(budget.acquire(wait_until=start + 5) for _ in range(4))
    assert time.monotonic() - start >= 0.25


@override_settings(POLYGON_API_KEY="abc", POLYGON_CALLS_PER_MINUTE=5, POLYGON_CALLS_PER_DAY=0)
def test_budget_for_uses_settings_and_never_stores_the_key():
    budget = budget_for("polygon")
    assert budget is budget_for("polygon")
    assert (budget.per_minute, budget.per_day) == (5, 0)
    assert "abc" not in budget.prefix and "abc" not in repr(budget)
    with override_settings(POLYGON_API_KEY="other"):
        assert budget_for("polygon").prefix != budget.prefix


@override_settings(ALPHA_VANTAGE_API_KEY="k", ALPHA_VANTAGE_CALLS_PER_DAY=25)
def test_alpha_vantage_settings_are_found():
    assert budget_for("alphavantage").per_day == 25


def test_run_deadline_sets_the_default_wait():
    clock = FakeClock()
    budget = make(clock, ClockCache(clock), per_minute=1)
    budget._monotonic = time.monotonic
    budget.acquire()
    with run_deadline(0):
        assert budget.acquire() is False
    with run_deadline(None):
        assert budget.acquire() is False


@pytest.mark.parametrize("value", ["garbage", None, b"\x00"])
def test_garbage_in_the_cache_does_not_raise(value):
    clock = FakeClock()
    shared = ClockCache(clock)
    budget = make(clock, shared, per_minute=2)
    shared.data[f"{budget.prefix}:block"] = (value, clock.now + 100)
    shared.data[f"{budget.prefix}:t0"] = (value, clock.now + 100)
    assert budget.acquire()


# --- acquire_many: the feed refresher's batch ------------------------------------------------


def _redis_cache(kind: str, url: str | None = None):
    """A real Redis cache under a unique prefix: django-redis' own, or the project's
    ResilientRedisCache (the production backend)."""
    import uuid

    from django_redis.cache import RedisCache

    from qunex.cache import ResilientRedisCache
    from tests.markets.test_feed import _redis_url

    url = url or _redis_url()
    if url is None:
        pytest.skip("Redis is not reachable (set REDIS_URL or run redis-server on :6379)")
    backend = RedisCache if kind == "redis" else ResilientRedisCache
    return backend(
        url,
        {
            "KEY_PREFIX": f"test-budget-{uuid.uuid4().hex}",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        },
    )


@pytest.fixture(params=["clock", "redis", "resilient"])
def shared_cache(request):
    """The budget's cache: the fake-clock dict (local memory's logic), django-redis, and the
    project's ResilientRedisCache, all with the same tests."""
    if request.param == "clock":
        return None
    return _redis_cache(request.param)


def _budget(shared, clock, **kwargs) -> VendorBudget:
    cache_ = ClockCache(clock) if shared is None else shared
    return make(clock, cache_, **kwargs)


def test_a_batch_takes_what_the_minute_has_left_and_no_more(shared_cache):
    clock = FakeClock()
    budget = _budget(shared_cache, clock, per_minute=5)
    assert budget.acquire() and budget.acquire() and budget.acquire()  # a job took 3
    assert budget.acquire_many(10) == 2
    assert budget.acquire() is False
    assert budget.acquire_many(10) == 0
    assert budget.remaining()["minute"] == 0
    assert budget.calls == 5


def test_a_batch_leaves_what_it_did_not_ask_for_to_the_jobs(shared_cache):
    clock = FakeClock()
    budget = _budget(shared_cache, clock, per_minute=6)
    assert budget.acquire_many(4) == 4
    assert budget.acquire() and budget.acquire()
    assert budget.acquire() is False
    assert budget.acquire_many(0) == 0 and budget.acquire_many(-3) == 0


def test_a_batch_honours_retry_after(shared_cache):
    clock = FakeClock()
    budget = _budget(shared_cache, clock, per_minute=5)
    budget.note_retry_after(30)
    assert budget.acquire_many(3) == 0
    clock.now += 31  # the block ends (the block's value is the time it ends)
    assert budget.acquire_many(3) == 3


def test_a_batch_waits_only_when_asked_to_and_then_for_one_call():
    clock = FakeClock()
    budget = make(clock, ClockCache(clock), per_minute=2)
    assert budget.acquire_many(2) == 2
    assert budget.acquire_many(2) == 0 and clock.slept == []  # a page never waits
    assert budget.acquire_many(2, wait_until=clock.now + 61) == 2
    assert clock.slept == [60.0]


def test_a_batch_without_a_minute_limit_costs_one_read():
    clock = FakeClock()
    shared = ClockCache(clock)
    budget = make(clock, shared)
    assert budget.acquire_many(40) == 40
    assert shared.commands == 1
    budget.note_retry_after(10)
    assert budget.acquire_many(40) == 0


def test_a_batch_respects_the_day_cap_and_the_reserves():
    clock = FakeClock()
    budget = make(clock, ClockCache(clock), per_minute=5, per_day=6, reserves={"bars": 2})
    with budget_module.budget_purpose("feed"):
        assert budget.acquire_many(5) == 4  # 6 a day, 2 of them kept for the bars
        clock.now += 61
        assert budget.acquire_many(5) == 0
    assert budget.acquire(purpose="bars") and budget.acquire(purpose="bars")
    assert budget.acquire(purpose="bars") is False


def test_a_batch_on_redis_is_two_commands_however_many_calls(settings):
    """Pinned: GET of the Retry-After block and one EVAL (SET NX PX of free tokens in Lua)."""
    from redis.connection import AbstractConnection

    from tests.markets.test_feed import _resp_commands

    shared = _redis_cache("resilient")
    budget = VendorBudget("finnhub", key="k", per_minute=60, cache=shared)
    budget.acquire_many(1)  # the connection is open
    sent: list[bytes] = []
    real = AbstractConnection.send_packed_command

    def spy(self, command, check_health=True):
        sent.extend(_resp_commands(command))
        return real(self, command, check_health)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(AbstractConnection, "send_packed_command", spy)
        assert budget.acquire_many(30) == 30
        assert sent == [b"GET", b"EVAL"]
        sent.clear()
        assert budget.acquire_many(30) == 29  # the 60 tokens of the minute: 1 + 30 + 29
        assert sent == [b"GET", b"EVAL"]
    assert budget.acquire() is False


@pytest.mark.parametrize("kind", ["redis", "resilient"])
def test_a_batch_with_redis_down_degrades_without_raising(kind):
    budget_module._local_cache.clear()
    down = _redis_cache(kind, url="redis://127.0.0.1:1/0")  # nothing listens there
    budget = VendorBudget("finnhub", key=f"down-{kind}", per_minute=3, cache=down)
    assert budget.acquire_many(5) == 3  # the minute, kept in this process
    assert budget.acquire_many(5) == 0 and budget.acquire() is False


def test_a_batch_with_a_broken_cache_degrades_without_raising():
    budget_module._local_cache.clear()
    budget = VendorBudget("finnhub", key="broken-batch", per_minute=2, cache=BrokenCache())
    assert budget.acquire_many(5) == 2
    assert budget.acquire_many(5) == 0


def test_batches_and_single_calls_together_never_overfill_a_rolling_minute():
    """Three threads taking single calls (the jobs) and two taking batches (refreshers of two
    process groups) on one real Redis budget, with a 1 s "minute": no span shorter than the
    window ever holds more than `limit` grants, and both kinds got calls."""
    import threading

    shared = _redis_cache("redis")
    limit, window = 8, 1.0
    grants: list[tuple[float, float, str]] = []
    lock = threading.Lock()
    stop = time.monotonic() + 3.5

    def worker(kind: str) -> None:
        budget = VendorBudget("finnhub", key="race", per_minute=limit, window=window, cache=shared)
        while time.monotonic() < stop:
            started = time.monotonic()
            got = budget.acquire_many(3) if kind == "batch" else int(budget.acquire())
            ended = time.monotonic()
            with lock:
                grants.extend((started, ended, kind) for _ in range(got))
            time.sleep(0.01)

    threads = [threading.Thread(target=worker, args=(k,)) for k in ["one"] * 3 + ["batch"] * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {kind for *_, kind in grants} == {"one", "batch"}
    # A sure overfill: more than `limit` grants that all began and ended within one window.
    for started, _, _ in grants:
        inside = [g for g in grants if g[0] >= started and g[1] < started + window]
        assert len(inside) <= limit
    # And the budget was used, not starved: about limit per window over 3.5 s.
    assert len(grants) >= 2 * limit


def test_a_spread_batch_holds_its_tokens_a_minute_past_its_last_call():
    """The feed makes a batch's calls over up to `spread` seconds: each token stays taken
    `window + spread`, so a job cannot call again until a minute after the batch's last
    call, and a waiting job sleeps once, to exactly then (no polling)."""
    clock = FakeClock()
    budget = make(clock, ClockCache(clock), per_minute=3)
    start = clock.now
    assert budget.acquire_many(3, spread=15) == 3
    clock.now = start + 61
    assert budget.acquire() is False
    assert budget.acquire(wait_until=clock.now + 60)
    assert clock.now == start + 75 and clock.slept == [14.0]


def test_a_spread_batch_on_redis_holds_its_tokens_longer():
    shared = _redis_cache("resilient")
    budget = VendorBudget("finnhub", key="spread", per_minute=2, window=0.4, cache=shared)
    assert budget.acquire_many(2, spread=0.4) == 2
    time.sleep(0.55)  # past the window, not past window + spread
    assert budget.acquire() is False
    time.sleep(0.4)
    assert budget.acquire()
