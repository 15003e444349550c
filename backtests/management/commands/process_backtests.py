from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandParser

from backtests import queue
from qunex.jobs import Job, JobCommand


class Command(JobCommand):
    help = (
        "Runs queued backtests (and re-takes ones whose processor died) until none is due, "
        "--max-jobs ran or --max-seconds passed. Safe to run several at once: each job is "
        "claimed by exactly one processor. Marks earlier runs that were killed as abandoned. "
        "Most backtests run in the request; GitHub Actions runs this hourly for "
        "the larger sweeps and walk-forward runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--max-jobs", type=int, default=None, help="Stop after this many jobs.")
        parser.add_argument(
            "--max-seconds",
            type=float,
            default=None,
            help="Claim no new job after this many seconds (keep a run inside its schedule).",
        )
        parser.add_argument(
            "--lease-seconds",
            type=float,
            default=queue.LEASE_SECONDS,
            help="How long a claim lasts without a heartbeat before another processor may take "
            f"the job (default {queue.LEASE_SECONDS}).",
        )
        parser.add_argument(
            "--retry-delay",
            type=float,
            default=queue.RETRY_DELAY.total_seconds(),
            help="Seconds a job that raised waits before its next attempt.",
        )
        parser.add_argument("--id", type=int, action="append", dest="ids", help="Only these jobs.")

    def run(
        self,
        job: Job,
        *,
        max_jobs: int | None = None,
        max_seconds: float | None = None,
        lease_seconds: float = queue.LEASE_SECONDS,
        retry_delay: float = queue.RETRY_DELAY.total_seconds(),
        ids: list[int] | None = None,
        **options: Any,
    ) -> str:
        worker = queue.worker_id()
        # The worker id on the run's row lets a later run (or a claim) find it if this
        # process is killed; see backtests.queue, point 5.
        job.run.arguments = {**job.run.arguments, "worker": worker}
        job.run.save(update_fields=["arguments"])
        dead = queue.abandon_dead_runs(exclude=job.run.pk)
        if dead:
            job.count("abandoned runs", dead)
        bar = job.progress(iter(int, 1), total=max_jobs, desc="backtests")  # advanced per job

        def on_outcome(outcome: queue.Outcome) -> None:
            next(bar, None)
            job.count(outcome.status)
            line = f"backtest #{outcome.job_id} {outcome.status} (attempt {outcome.attempts}, {outcome.seconds:.2f}s)"
            if outcome.error:
                line += f": {outcome.error.splitlines()[0]}"
            job.log(line, level=1 if outcome.error else 2)

        reaped = queue.reap_abandoned()
        if reaped:
            job.count("abandoned", reaped)
        queue.process(
            worker=worker,
            max_jobs=max_jobs,
            max_seconds=max_seconds,
            lease_seconds=lease_seconds,
            retry_delay=timedelta(seconds=retry_delay),
            ids=ids,
            on_outcome=on_outcome,
        )
        return f"worker {worker}"
