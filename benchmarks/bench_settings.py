"""Settings for the feed benchmark: Qunex's own settings with the benchmark's URLconf, which
adds one trivial view to compare the feed against."""

from __future__ import annotations

import os

from qunex.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
# No collectstatic in a scratch run: pages (the warm-up renders them) use plain static URLs.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# benchmarks/feed_redis.py drives the market open/closed through a file.
if os.environ.get("BENCH_MARKET_FILE"):
    INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks.market_clock.MarketClockConfig"]  # noqa: F405
