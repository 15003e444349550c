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
