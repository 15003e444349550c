"""`make test` runs on every core: each pytest-xdist worker gets its own Redis database."""

from __future__ import annotations

import pytest

from tests.worker_isolation import redis_url_for_worker, worker_index


@pytest.mark.parametrize(
    ("url", "index", "expected"),
    [
        ("redis://127.0.0.1:6379/15", 0, "redis://127.0.0.1:6379/15"),
        ("redis://127.0.0.1:6379/15", 1, "redis://127.0.0.1:6379/14"),
        ("redis://127.0.0.1:6379/0", 1, "redis://127.0.0.1:6379/15"),
        ("redis://127.0.0.1:6379", 2, "redis://127.0.0.1:6379/14"),
        ("rediss://:secret@cache.example:6380/3", 1, "rediss://:secret@cache.example:6380/2"),
    ],
)
def test_each_worker_moves_down_one_database(url, index, expected):
    assert redis_url_for_worker(url, index) == expected


@pytest.mark.parametrize(
    ("worker", "index"), [("", 0), ("gw0", 0), ("gw3", 3), ("gw²", 0), ("master", 0)]
)
def test_worker_index_reads_xdist_names_only(monkeypatch, worker, index):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    assert worker_index() == index
