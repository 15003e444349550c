"""The queue's claim, lease, heartbeat and conditional writes (SQLite path and shared rules)."""

from __future__ import annotations

import datetime
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.db import connection

from backtests import queue
from backtests.models import Backtest
from backtests.runner import RunOutput
from qunex.models import JobRun
from tests.backtests.factories import BacktestFactory

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2024, 6, 3, 12, tzinfo=datetime.UTC)
OUTPUT = RunOutput(
    result={"kind": "single", "stats": {"Return [%]": 1.0}},
    fingerprint="f" * 64,
    engine_version="1.0",
)


@pytest.fixture
def traveller():
    with time_machine.travel(T0, tick=False) as t:
        yield t


def test_worker_id_names_host_pid_and_a_random_part():
    host, pid, rand = queue.worker_id().split(":")
    assert host and int(pid) > 0 and len(rand) == 8
    assert queue.worker_id() != queue.worker_id()


def test_claim_marks_running_with_lease_and_attempt(traveller, spy):
    job = BacktestFactory(ticker=spy)
    claimed = queue.claim_next(worker="w1", lease_seconds=30)
    assert claimed.pk == job.pk
    assert claimed.status == "running" and claimed.claimed_by == "w1"
    assert claimed.attempts == 1
    assert claimed.started_at == T0 and claimed.heartbeat_at == T0
    assert claimed.lease_expires_at == T0 + timedelta(seconds=30)
    assert queue.claim_next(worker="w2") is None, "a claimed job is not claimable again"


def test_oldest_due_job_first_and_future_retries_wait(traveller, spy):
    later = BacktestFactory(ticker=spy, queued_at=T0 - timedelta(minutes=1))
    older = BacktestFactory(ticker=spy, queued_at=T0 - timedelta(minutes=5))
    BacktestFactory(ticker=spy, available_at=T0 + timedelta(minutes=1))  # a retry waiting
    assert queue.claim_next(worker="w").pk == older.pk
    assert queue.claim_next(worker="w").pk == later.pk
    assert queue.claim_next(worker="w") is None


def test_claim_among_given_ids_only(traveller, spy):
    a, b = BacktestFactory(ticker=spy), BacktestFactory(ticker=spy)
    assert queue.claim_next(worker="w", ids=[b.pk]).pk == b.pk
    assert queue.claim_next(worker="w", ids=[b.pk]) is None
    assert Backtest.objects.get(pk=a.pk).status == "queued"


def test_sqlite_path_single_winner(traveller, spy):
    """Two processors read the same candidate; only the first conditional UPDATE wins."""
    if connection.features.has_select_for_update_skip_locked:
        pytest.skip("the conditional-update path is the one used without SKIP LOCKED")
    job = BacktestFactory(ticker=spy)
    stale_row = {"pk": job.pk, "status": "queued", "attempts": 0, "claimed_by": ""}
    values = queue._claim_values("w1", T0, 30)
    assert Backtest.objects.filter(**stale_row).update(**values) == 1
    assert Backtest.objects.filter(**stale_row).update(**queue._claim_values("w2", T0, 30)) == 0
    assert Backtest.objects.get(pk=job.pk).claimed_by == "w1"


def test_expired_lease_is_taken_again_and_the_old_claim_cannot_write(traveller, spy):
    BacktestFactory(ticker=spy)
    first = queue.claim_next(worker="dead", lease_seconds=30)
    traveller.shift(timedelta(seconds=29))
    assert queue.claim_next(worker="other", lease_seconds=30) is None, "lease still valid"
    traveller.shift(timedelta(seconds=2))
    second = queue.claim_next(worker="other", lease_seconds=30)
    assert second.pk == first.pk and second.attempts == 2 and second.claimed_by == "other"
    # The first processor wakes up: none of its writes land.
    assert queue.heartbeat(job=first, worker="dead") is False
    assert queue.finish_succeeded(job=first, worker="dead", output=OUTPUT) is False
    assert queue.finish_failed(job=first, worker="dead", error="late", retry=False) is None
    assert queue.finish_succeeded(job=second, worker="other", output=OUTPUT) is True
    done = Backtest.objects.get(pk=first.pk)
    assert done.status == "succeeded" and done.result == OUTPUT.result
    assert done.bars_fingerprint == "f" * 64 and done.engine_version == "1.0"


def test_heartbeat_extends_the_lease(traveller, spy):
    BacktestFactory(ticker=spy)
    job = queue.claim_next(worker="w", lease_seconds=30)
    traveller.shift(timedelta(seconds=20))
    assert queue.heartbeat(job=job, worker="w", lease_seconds=30)
    traveller.shift(timedelta(seconds=20))  # 40 s after the claim, 20 s after the beat
    assert queue.claim_next(worker="thief", lease_seconds=30) is None
    job.refresh_from_db()
    assert job.heartbeat_at == T0 + timedelta(seconds=20)
    assert job.lease_expires_at == T0 + timedelta(seconds=50)


def test_failure_is_requeued_with_a_delay_until_attempts_run_out(traveller, spy):
    BacktestFactory(ticker=spy)
    for attempt in (1, 2):
        job = queue.claim_next(worker="w")
        assert job.attempts == attempt
        status = queue.finish_failed(
            job=job, worker="w", error="boom", retry=True, retry_delay=timedelta(seconds=60)
        )
        assert status == "queued"
        job.refresh_from_db()
        assert job.available_at == T0 + timedelta(seconds=60 * attempt)
        assert job.error == f"Attempt {attempt} of 3 failed: boom"
        assert queue.claim_next(worker="w") is None, "waits for its retry delay"
        traveller.shift(timedelta(seconds=60))
    job = queue.claim_next(worker="w")
    assert job.attempts == 3
    assert queue.finish_failed(job=job, worker="w", error="boom", retry=True) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "boom" and job.finished_at is not None
    traveller.shift(timedelta(hours=1))
    assert queue.claim_next(worker="w") is None


def test_input_errors_fail_at_once(traveller, spy):
    BacktestFactory(ticker=spy)
    job = queue.claim_next(worker="w")
    assert queue.finish_failed(job=job, worker="w", error="bad params", retry=False) == "failed"
    job.refresh_from_db()
    assert job.attempts == 1 and job.status == "failed"


def test_a_job_whose_processor_died_on_its_last_attempt_is_failed(traveller, spy):
    job = BacktestFactory(
        ticker=spy,
        status="running",
        attempts=3,
        claimed_by="gone",
        lease_expires_at=T0 - timedelta(seconds=1),
    )
    assert queue.claim_next(worker="w") is None
    assert queue.reap_abandoned() == 1
    job.refresh_from_db()
    assert job.status == "failed" and "lease expired" in job.error


def test_cancelled_while_running_discards_the_result(traveller, spy):
    from backtests.services import backtest_cancel

    BacktestFactory(ticker=spy)
    job = queue.claim_next(worker="w")
    backtest_cancel(backtest=Backtest.objects.get(pk=job.pk))
    assert queue.heartbeat(job=job, worker="w") is False
    assert queue.finish_succeeded(job=job, worker="w", output=OUTPUT) is False
    assert Backtest.objects.get(pk=job.pk).status == "cancelled"


def test_heartbeat_thread_beats_and_notices_a_lost_claim(spy):
    """The thread calls heartbeat() every lease/3 seconds and stops when the claim is gone."""
    BacktestFactory(ticker=spy)
    job = queue.claim_next(worker="w", lease_seconds=0.6)
    beats = []

    def fake_heartbeat(**kwargs):
        beats.append(kwargs)
        return len(beats) < 3

    with (
        mock.patch.object(queue, "heartbeat", fake_heartbeat),
        mock.patch.object(queue.connections, "close_all"),
        queue.Heartbeat(job=job, worker="w", lease_seconds=0.6) as hb,
    ):
        assert hb.lost.wait(5), "the third beat reports the claim lost"
    assert len(beats) == 3 and beats[0] == {"job": job, "worker": "w", "lease_seconds": 0.6}


# --- a killed processor's JobRun row -------------------------------------------------------


def _processor_run(worker: str, started: datetime.datetime) -> JobRun:
    return JobRun.objects.create(
        command="process_backtests", arguments={"worker": worker}, started_at=started
    )


def test_retaking_a_job_marks_the_dead_processors_run_abandoned(traveller, spy):
    dead = _processor_run("dead:1:aaaa", T0 - timedelta(minutes=10))
    other = _processor_run("alive:2:bbbb", T0 - timedelta(minutes=10))
    job = BacktestFactory(
        ticker=spy,
        status="running",
        attempts=1,
        claimed_by="dead:1:aaaa",
        lease_expires_at=T0 - timedelta(seconds=1),
    )
    assert queue.claim_next(worker="w2").pk == job.pk
    dead.refresh_from_db()
    other.refresh_from_db()
    assert dead.status == "failed" and dead.finished_at == T0
    assert (
        dead.error
        == f"abandoned: its backtest #{job.pk} was re-taken by w2 after its lease expired"
    )
    assert other.status == "running", "a run that lost nothing stays running"


def test_giving_up_a_job_marks_its_processors_run_abandoned(traveller, spy):
    dead = _processor_run("dead:1:aaaa", T0 - timedelta(minutes=10))
    BacktestFactory(
        ticker=spy,
        status="running",
        attempts=3,
        claimed_by="dead:1:aaaa",
        lease_expires_at=T0 - timedelta(seconds=1),
    )
    assert queue.reap_abandoned() == 1
    dead.refresh_from_db()
    assert dead.status == "failed" and dead.error.startswith("abandoned: its backtest #")


def test_the_next_run_marks_earlier_runs_without_a_live_lease_abandoned(traveller, spy):
    killed = _processor_run("dead:1:aaaa", T0 - timedelta(minutes=10))
    working = _processor_run("busy:2:bbbb", T0 - timedelta(minutes=10))
    just_started = _processor_run("new:3:cccc", T0 - timedelta(seconds=5))
    BacktestFactory(
        ticker=spy, status="running", claimed_by="busy:2:bbbb", lease_expires_at=T0 + timedelta(60)
    )
    assert queue.abandon_dead_runs() == 1
    for run in (killed, working, just_started):
        run.refresh_from_db()
    assert killed.status == "failed" and killed.error.startswith("abandoned: still marked running")
    assert working.status == "running" and just_started.status == "running"
