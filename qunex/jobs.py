"""The shared base for background commands.

Every scheduled task is a `manage.py` command that subclasses `JobCommand`. The base:

1. records a `JobRun` row (command, arguments, start) before the work starts;
2. hands the subclass a `Job` to count outcomes (`job.count("created", 3)`) and to wrap
   iterables in a progress bar that only draws on a terminal;
3. on return marks the run succeeded (or partly failed when anything was counted as
   `failed`), on `JobFailed` or any other exception marks it failed with the error text;
4. prints one summary line with the counts and exits non-zero when the job as a whole failed,
   so the GitHub Actions run turns red.
"""

from __future__ import annotations

import sys
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from qunex.models import JobRun
from qunex.redaction import redact

T = TypeVar("T")


class JobFailed(Exception):
    """Raise from `run()` when the job as a whole failed (the command exits non-zero)."""


class Job:
    def __init__(self, command: BaseCommand, run: JobRun, verbosity: int) -> None:
        self.command = command
        self.run = run
        self.verbosity = verbosity
        self.counts: Counter[str] = Counter()

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def progress(
        self, items: Iterable[T], *, total: int | None = None, desc: str = ""
    ) -> Iterator[T]:
        """Iterate with a progress bar on a terminal (stderr), silently elsewhere."""
        show = self.verbosity >= 1 and sys.stderr.isatty()
        yield from tqdm(
            items, total=total, desc=desc, disable=not show, file=sys.stderr, leave=False
        )

    def log(self, message: str, *, level: int = 2) -> None:
        if self.verbosity >= level:
            self.command.stdout.write(redact(message))


class JobCommand(BaseCommand):
    """Subclass, set `help`, and implement `run(job, **options)`."""

    def run(self, job: Job, **options: Any) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        name = self.__module__.rsplit(".", 1)[-1]
        arguments = {
            k: v
            for k, v in options.items()
            if k
            not in {
                "verbosity",
                "settings",
                "pythonpath",
                "traceback",
                "no_color",
                "force_color",
                "skip_checks",
            }
        }
        run = JobRun.objects.create(
            command=name, arguments=_jsonable(arguments), started_at=timezone.now()
        )
        job = Job(self, run, int(options.get("verbosity", 1)))
        error = ""
        note: str | None = None
        try:
            note = self.run(job, **options)
        except (JobFailed, CommandError) as exc:
            error = str(exc)
            note = error  # the summary says why the run failed (e.g. which tickers)
        except Exception as exc:
            error = "".join(traceback.format_exception(exc)).strip()
        run.finished_at = timezone.now()
        run.counts = dict(job.counts)
        if error:
            run.status = JobRun.Status.FAILED
        elif job.counts.get("failed"):
            run.status = JobRun.Status.PARTIAL
        else:
            run.status = JobRun.Status.SUCCEEDED
        counts = ", ".join(f"{k} {v}" for k, v in sorted(job.counts.items())) or "nothing to do"
        seconds = (run.finished_at - run.started_at).total_seconds()
        run.summary = redact(
            f"{name}: {run.status} in {seconds:.1f}s: {counts}" + (f"; {note}" if note else "")
        )
        run.error = error = redact(error)
        run.save()
        if error:
            # A JobFailed/CommandError message is already the summary's note: say it once.
            detail = "" if note == error else f"\n{error.splitlines()[-1]}"
            raise CommandError(f"{run.summary}{detail}")
        self.stdout.write(run.summary)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
