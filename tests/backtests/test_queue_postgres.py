"""The queue under real concurrency on PostgreSQL: several `manage.py process_backtests`
processes against one database, SKIP LOCKED claims, a SIGKILLed processor, heartbeats.

Run with DATABASE_URL=postgres://... (skipped on SQLite). The processes use the test
database (settings.DATABASES["default"]["NAME"] inside the test) and the settings module
tests.backtests.settings_with_test_strategies, which adds the sleeping/raising test strategies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models.functions import Now

from backtests import queue
from backtests.models import Backtest
from qunex.models import JobRun
from tests.backtests.factories import BacktestFactory, seed_bars
from tests.backtests.strategies_for_tests import SLEEP_SCALE_ENV
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.backtests.settings_with_test_strategies"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture
def cheap_jobs(test_strategies):
    """A ticker with 40 bars and a factory for jobs on it."""
    ticker = seed_bars("SPY", 40)
    owner = UserFactory()

    def make(n: int = 1, **kwargs) -> list[Backtest]:
        kwargs.setdefault("strategy", "sma_cross")
        kwargs.setdefault("params", {"fast": 3, "slow": 8})
        return BacktestFactory.create_batch(n, owner=owner, ticker=ticker, **kwargs)

    return make


def database_url() -> str:
    db = settings.DATABASES["default"]
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def processor(*args: str, sleep_scale: float = 1.0) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        SLEEP_SCALE_ENV: str(sleep_scale),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "process_backtests",
            f"--settings={SETTINGS}",
            "-v",
            "2",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out}\n{err}"
    return out


def wait_for(predicate, timeout: float = 60, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def test_skip_locked_claims_pass_over_a_locked_row(cheap_jobs):
    """While another transaction holds job 1's row lock, claim_next takes job 2 at once."""
    first, second = cheap_jobs(2)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                Backtest.objects.select_for_update().get(pk=first.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        claimed = queue.claim_next(worker="w", lease_seconds=30)
        assert claimed.pk == second.pk
        assert time.monotonic() - started < 2, "SKIP LOCKED must not wait for the lock"
    finally:
        release.set()
        holder.join()
    assert queue.claim_next(worker="w", lease_seconds=30).pk == first.pk


def test_four_processors_run_each_of_100_jobs_exactly_once(cheap_jobs):
    # 20 ms each, so the work is shared rather than done by whichever process starts first.
    jobs = cheap_jobs(100, strategy="test_sleep", params={"seconds": 0.02})
    procs = [processor("--lease-seconds", "30") for _ in range(4)]
    for proc in procs:
        finish(proc)
    rows = Backtest.objects.filter(pk__in=[j.pk for j in jobs])
    assert rows.filter(status="succeeded").count() == 100
    assert rows.filter(attempts=1).count() == 100, "no job was claimed twice"
    assert rows.exclude(bars_fingerprint="").count() == 100
    runs = JobRun.objects.filter(command="process_backtests")
    assert runs.count() == 4
    assert sum(r.counts.get("succeeded", 0) for r in runs) == 100
    workers = set(rows.values_list("claimed_by", flat=True))
    assert len(workers) >= 2, "the work was shared between processes"


def test_a_killed_processor_s_job_is_completed_once_by_another(cheap_jobs):
    (job,) = cheap_jobs(1, strategy="test_sleep", params={"seconds": 60})
    victim = processor("--lease-seconds", "2")
    wait_for(lambda: Backtest.objects.get(pk=job.pk).status == "running", timeout=60)
    victim.kill()  # SIGKILL: no cleanup, the claim stays behind
    victim.communicate(timeout=30)
    job.refresh_from_db()
    assert job.status == "running" and job.attempts == 1
    dead_worker = job.claimed_by
    assert f":{victim.pid}:" in dead_worker

    # Another processor finds nothing until the lease expires, then takes the job over.
    wait_for(
        lambda: Backtest.objects.filter(pk=job.pk, lease_expires_at__lt=Now()).exists(), timeout=10
    )
    out = finish(processor("--lease-seconds", "2", sleep_scale=0))
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert job.attempts == 2
    assert job.claimed_by != dead_worker
    assert job.result["kind"] == "single"
    assert "succeeded 1" in out
    finished_runs = JobRun.objects.filter(command="process_backtests", finished_at__isnull=False)
    assert sum(r.counts.get("succeeded", 0) for r in finished_runs) == 1, "completed exactly once"


def test_heartbeat_keeps_a_long_job_from_being_taken(cheap_jobs):
    (job,) = cheap_jobs(1, strategy="test_sleep", params={"seconds": 4})
    owner = processor("--lease-seconds", "1.5")  # beats every 0.5 s
    wait_for(lambda: Backtest.objects.get(pk=job.pk).status == "running", timeout=60)
    time.sleep(2)  # longer than the lease: only the heartbeat keeps it
    out = finish(processor("--lease-seconds", "1.5", sleep_scale=0))
    assert "nothing to do" in out
    finish(owner)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 1
    assert job.heartbeat_at > job.started_at


def test_a_job_that_always_raises_fails_after_3_attempts_and_the_processor_goes_on(cheap_jobs):
    (bad,) = cheap_jobs(1, strategy="test_raise", params={"code": 3})
    good = cheap_jobs(3)
    out = finish(processor("--retry-delay", "0"))
    bad.refresh_from_db()
    assert bad.status == "failed" and bad.attempts == 3
    assert bad.error == "RuntimeError: strategy exploded (code 3)"
    assert Backtest.objects.filter(pk__in=[j.pk for j in good], status="succeeded").count() == 3
    assert "failed 1" in out and "requeued 2" in out and "succeeded 3" in out
