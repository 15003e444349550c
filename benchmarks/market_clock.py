"""Benchmark-only Django app: the market is open or closed as a file says, so the Redis
benchmark (benchmarks/feed_redis.py) can run the real app through a trading day's phases.

`BENCH_MARKET_FILE` holds "open" or "closed"; `markets.calendar.is_open` answers from it
(read at most once a second). Installed by benchmarks.bench_settings only when that
variable is set; never part of Qunex itself.
"""

from __future__ import annotations

import os
import time

from django.apps import AppConfig


class MarketClockConfig(AppConfig):
    name = "benchmarks.market_clock"
    label = "bench_market_clock"

    def ready(self) -> None:
        from markets import calendar

        path = os.environ["BENCH_MARKET_FILE"]
        state = {"read": 0.0, "open": False}

        def is_open(at) -> bool:
            now = time.monotonic()
            if now - state["read"] >= 1:
                try:
                    with open(path) as f:
                        state["open"] = f.read().strip() == "open"
                except OSError:
                    state["open"] = False
                state["read"] = now
            return state["open"]

        calendar.is_open = is_open
