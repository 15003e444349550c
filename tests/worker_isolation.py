"""Each pytest-xdist worker gets its own Redis database, as pytest-django gives it its own
test database (`test_<name>_gw0`, `_gw1`, ...).

Loaded with `-p tests.worker_isolation` (pyproject.toml) so it runs before pytest-django
reads Django's settings: the autouse `cache.clear()` is a FLUSHDB, and two workers sharing a
Redis database would wipe each other's keys mid-test.

Worker gwN uses database (base - N) mod 16: CI's `redis://…/15` becomes 15, 14, …
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16


def worker_index() -> int:
    """0 for the controller or a run without xdist, N for worker gwN."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    digits = worker.removeprefix("gw")
    return int(digits) if digits.isascii() and digits.isdecimal() else 0


def redis_url_for_worker(url: str, index: int | None = None) -> str:
    """`url` with its database number moved down by the worker's index."""
    index = worker_index() if index is None else index
    parts = urlsplit(url)
    path = parts.path.strip("/")
    base = int(path) if path.isascii() and path.isdecimal() else 0
    db = (base - index) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{db}"))


if os.environ.get("REDIS_URL") and worker_index():
    os.environ["REDIS_URL"] = redis_url_for_worker(os.environ["REDIS_URL"])
