"""The backtest queue: claim a job, keep its lease alive, write its outcome once.

Several processors may run at once, on any number of machines:

1. Claiming. On PostgreSQL the next due job is locked with `SELECT ... FOR UPDATE SKIP LOCKED`
   inside a transaction and marked running there, so two processors never see the same row.
   Elsewhere (SQLite) a candidate is taken with a conditional `UPDATE ... WHERE id = ? AND
   status = ? AND attempts = ? AND claimed_by = ?`: the one processor whose update changes a
   row wins, the others try the next candidate.
2. A claim sets `claimed_by` (host:pid:random), `lease_expires_at = now + lease` and
   `attempts += 1`. A heartbeat thread extends the lease while the job runs. A job whose
   processor died (running, lease expired) is claimable again; one that has used all its
   attempts that way is marked failed.
3. Every write after the claim (heartbeat, success, failure) is conditional on the row still
   being running *and* claimed by this processor, so a processor whose lease expired and was
   taken over (or whose job was cancelled) cannot overwrite anything.
4. Input errors (bad parameters, unusable bars) fail the job at once; any other exception
   sends it back to the queue after `retry_delay` until `max_attempts` is reached, then it
   stays failed with the error.
5. A processor that was killed leaves its `JobRun` row (qunex.models) "running". Each run of
   `process_backtests` records its worker id in the row's `arguments["worker"]`; the row is
   marked failed with an error starting "abandoned:" as soon as one of its jobs is re-taken
   (or given up), or at the start of the next run when its worker holds no live lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import close_old_connections, connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from backtests.models import Backtest
from backtests.runner import JobInputError, RunOutput, execute
from qunex.models import JobRun

log = logging.getLogger(__name__)

PROCESSOR_COMMAND = "process_backtests"  # the JobRun.command of a processor run
LEASE_SECONDS = 120
RETRY_DELAY = timedelta(seconds=60)
ERROR_LIMIT = 4000


def worker_id() -> str:
    """hostname:pid:random, unique per processor run."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _now() -> datetime:
    return timezone.now()


def abandon_runs(*, workers: Iterable[str], reason: str, now: datetime | None = None) -> int:
    """Mark the still-running processor runs of `workers` failed as abandoned."""
    workers = [w for w in workers if w]
    if not workers:
        return 0
    now = now or _now()
    return JobRun.objects.filter(
        command=PROCESSOR_COMMAND, status=JobRun.Status.RUNNING, arguments__worker__in=workers
    ).update(
        status=JobRun.Status.FAILED,
        finished_at=now,
        error=f"abandoned: {reason}"[:ERROR_LIMIT],
        summary=f"{PROCESSOR_COMMAND}: abandoned (the processor stopped without finishing)",
    )


def abandon_dead_runs(*, exclude: int | None = None, now: datetime | None = None) -> int:
    """At the start of a processor run: earlier runs still marked running whose worker holds
    no live lease, and that started more than a lease ago, are marked abandoned."""
    now = now or _now()
    live = list(
        Backtest.objects.filter(
            status=Backtest.Status.RUNNING, lease_expires_at__gte=now
        ).values_list("claimed_by", flat=True)
    )
    stale = (
        JobRun.objects.filter(
            command=PROCESSOR_COMMAND,
            status=JobRun.Status.RUNNING,
            started_at__lt=now - timedelta(seconds=LEASE_SECONDS),
        )
        .exclude(pk=exclude)
        .exclude(arguments__worker__in=live)
    )
    return stale.update(
        status=JobRun.Status.FAILED,
        finished_at=now,
        error="abandoned: still marked running at the next processor run, and its worker "
        "held no live lease (the process was killed or lost its database connection).",
        summary=f"{PROCESSOR_COMMAND}: abandoned (the processor stopped without finishing)",
    )


def reap_abandoned(*, now: datetime | None = None) -> int:
    """Fail running jobs whose lease expired after their last allowed attempt (and mark
    their processors' runs abandoned)."""
    now = now or _now()
    gone = list(Backtest.objects.abandoned(now).values_list("pk", "claimed_by"))
    if not gone:
        return 0
    for pk, worker in gone:
        abandon_runs(
            workers=[worker],
            reason=f"its backtest #{pk} outlived its lease on the last allowed attempt",
            now=now,
        )
    return (
        Backtest.objects.abandoned(now)
        .filter(pk__in=[pk for pk, _ in gone])
        .update(
            status=Backtest.Status.FAILED,
            finished_at=now,
            lease_expires_at=None,
            error="Gave up: the processor running it stopped without finishing "
            "(lease expired) on the last allowed attempt.",
        )
    )


def _claim_values(worker: str, now: datetime, lease_seconds: float) -> dict:
    return {
        "status": Backtest.Status.RUNNING,
        "claimed_by": worker,
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
        "heartbeat_at": now,
        "started_at": now,
        "attempts": F("attempts") + 1,
    }


def claim_next(
    *,
    worker: str,
    lease_seconds: float = LEASE_SECONDS,
    ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> Backtest | None:
    """Take the oldest due job (optionally among `ids`) for `worker`, or None."""
    now = now or _now()
    candidates = Backtest.objects.claimable(now).order_by("available_at", "id")
    if ids is not None:
        candidates = candidates.filter(pk__in=list(ids))
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            row = (
                candidates.select_for_update(skip_locked=True)
                .values("pk", "status", "claimed_by")
                .first()
            )
            if row is None:
                return None
            Backtest.objects.filter(pk=row["pk"]).update(
                **_claim_values(worker, now, lease_seconds)
            )
        _retaken(row, worker, now)
        return Backtest.objects.select_related("ticker").get(pk=row["pk"])
    for row in candidates.values("pk", "status", "attempts", "claimed_by")[:20]:
        won = Backtest.objects.filter(**row).update(**_claim_values(worker, now, lease_seconds))
        if won == 1:
            _retaken(row, worker, now)
            return Backtest.objects.select_related("ticker").get(pk=row["pk"])
    return None


def _retaken(row: dict, worker: str, now: datetime) -> None:
    """A job taken over from a processor whose lease expired: that processor's run is dead."""
    if row["status"] == Backtest.Status.RUNNING and row["claimed_by"]:
        abandon_runs(
            workers=[row["claimed_by"]],
            reason=f"its backtest #{row['pk']} was re-taken by {worker} after its lease expired",
            now=now,
        )


def _held(job: Backtest, worker: str):
    return Backtest.objects.filter(pk=job.pk, status=Backtest.Status.RUNNING, claimed_by=worker)


def heartbeat(*, job: Backtest, worker: str, lease_seconds: float = LEASE_SECONDS) -> bool:
    """Extend the lease; False when the claim is gone (taken over or cancelled)."""
    now = _now()
    return (
        _held(job, worker).update(
            heartbeat_at=now, lease_expires_at=now + timedelta(seconds=lease_seconds)
        )
        == 1
    )


def finish_succeeded(*, job: Backtest, worker: str, output: RunOutput) -> bool:
    """Store the result; False (nothing written) when the claim is gone."""
    return (
        _held(job, worker).update(
            status=Backtest.Status.SUCCEEDED,
            finished_at=_now(),
            lease_expires_at=None,
            error="",
            result=output.result,
            bars_fingerprint=output.fingerprint,
            engine_version=output.engine_version,
        )
        == 1
    )


def finish_failed(
    *,
    job: Backtest,
    worker: str,
    error: str,
    retry: bool,
    retry_delay: timedelta = RETRY_DELAY,
) -> str | None:
    """Requeue (when `retry` and attempts are left) or fail the job; returns the new status,
    or None when the claim is gone and nothing was written."""
    now = _now()
    error = error[:ERROR_LIMIT]
    if retry and job.attempts < job.max_attempts:
        values = {
            "status": Backtest.Status.QUEUED,
            "available_at": now + retry_delay,
            "claimed_by": "",
            "lease_expires_at": None,
            "error": f"Attempt {job.attempts} of {job.max_attempts} failed: {error}",
        }
    else:
        values = {
            "status": Backtest.Status.FAILED,
            "finished_at": now,
            "lease_expires_at": None,
            "error": error,
        }
    return values["status"] if _held(job, worker).update(**values) == 1 else None


class Heartbeat:
    """A thread that extends the job's lease every `interval` seconds while the job runs.

    It opens its own database connection only when it first beats, and closes it on exit.
    `lost` is set when a beat finds the claim gone.
    """

    def __init__(self, *, job: Backtest, worker: str, lease_seconds: float) -> None:
        self.job, self.worker, self.lease_seconds = job, worker, lease_seconds
        self.interval = max(lease_seconds / 3, 0.2)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job.pk}", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not heartbeat(
                        job=self.job, worker=self.worker, lease_seconds=self.lease_seconds
                    ):
                        self.lost.set()
                        return
                except Exception:  # a beat that fails is retried at the next interval
                    log.exception("Heartbeat for backtest %s failed", self.job.pk)
        finally:
            connections.close_all()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class Outcome:
    job_id: int
    status: str  # succeeded | failed | requeued | lost
    attempts: int
    seconds: float
    error: str = ""


def process_job(
    job: Backtest,
    *,
    worker: str,
    lease_seconds: float = LEASE_SECONDS,
    retry_delay: timedelta = RETRY_DELAY,
    run: Callable[[Backtest], RunOutput] = execute,
    retry_errors: bool = True,
    beat: bool = True,
) -> Outcome:
    """Run a claimed job and write its outcome (conditionally on still holding it).

    An unexpected exception requeues the job for another attempt when `retry_errors`
    (the processor), or fails it at once with the message (an inline run)."""
    started = time.monotonic()
    error = ""
    with Heartbeat(job=job, worker=worker, lease_seconds=lease_seconds) if beat else nullcontext():
        try:
            output = run(job)
        except JobInputError as exc:
            error, retry, output = str(exc), False, None
        except Exception as exc:
            log.exception("Backtest %s raised", job.pk)
            error, retry, output = f"{type(exc).__name__}: {exc}", retry_errors, None
    seconds = time.monotonic() - started
    if output is not None:
        ok = finish_succeeded(job=job, worker=worker, output=output)
        status = "succeeded" if ok else "lost"
    else:
        new = finish_failed(
            job=job, worker=worker, error=error, retry=retry, retry_delay=retry_delay
        )
        status = {None: "lost", Backtest.Status.QUEUED: "requeued"}.get(new, "failed")
    return Outcome(job.pk, status, job.attempts, seconds, error)


def run_inline(job: Backtest) -> Outcome | None:
    """Run a just-queued job in this process (a web request), exactly as a processor would:
    claim it (attempts, lease, started_at), run it, store the result or the error with the
    same conditional writes. A failure fails the job with its message (no retry: the user
    is waiting for the answer). Returns None when the job could not be claimed (a processor
    took it first): it then runs there."""
    worker = f"inline:{worker_id()}"
    if not claim(job, worker=worker):
        return None
    # No heartbeat thread: an inline job is estimated under a few seconds, its lease is 120 s.
    return process_job(job, worker=worker, retry_errors=False, beat=False)


def claim(job: Backtest, *, worker: str, lease_seconds: float = LEASE_SECONDS) -> bool:
    """Claim this queued, due job for `worker` in one conditional UPDATE (the same values as
    `claim_next`) and mirror them on `job`; False when someone else holds it."""
    now = _now()
    values = _claim_values(worker, now, lease_seconds)
    won = (
        Backtest.objects.claimable(now)
        .filter(pk=job.pk, status=Backtest.Status.QUEUED)
        .update(**values)
    )
    if won != 1:
        return False
    values["attempts"] = job.attempts + 1
    for name, value in values.items():
        setattr(job, name, value)
    return True


def process(
    *,
    worker: str,
    max_jobs: int | None = None,
    max_seconds: float | None = None,
    lease_seconds: float = LEASE_SECONDS,
    retry_delay: timedelta = RETRY_DELAY,
    ids: Iterable[int] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Claim and run jobs until none is due, `max_jobs` ran or `max_seconds` passed."""
    deadline = time.monotonic() + max_seconds if max_seconds else None
    ids = list(ids) if ids is not None else None
    outcomes: list[Outcome] = []
    while max_jobs is None or len(outcomes) < max_jobs:
        if deadline is not None and time.monotonic() >= deadline:
            break
        if not connection.in_atomic_block:
            close_old_connections()  # a long run outlives CONN_MAX_AGE and dropped connections
        reap_abandoned()
        job = claim_next(worker=worker, lease_seconds=lease_seconds, ids=ids)
        if job is None:
            break
        outcome = process_job(
            job, worker=worker, lease_seconds=lease_seconds, retry_delay=retry_delay
        )
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes
