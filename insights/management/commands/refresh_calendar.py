from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from insights.calendar.services import SOURCES, calendar_refresh, configured_sources
from markets.budget import run_deadline
from qunex.jobs import Job, JobCommand, JobFailed


def _names(value: str) -> list[str]:
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown source(s) {', '.join(unknown)}; choose from {', '.join(SOURCES)}"
        )
    return names


class Command(JobCommand):
    help = (
        "Reads the economic calendar from the official release schedules (BLS iCalendar, "
        "the Fed's FOMC meeting page) and, with FINNHUB_API_KEY, Finnhub's calendar with "
        "forecasts and actuals, for --past-days back to --days ahead, and upserts the events. "
        "Runs hourly (data-refresh workflow); a second run changes nothing. A source that fails "
        "keeps its earlier events and makes the run exit non-zero; a malformed event is skipped "
        "and counted. Finnhub's call draws on its shared budget (CALENDAR_TIME_BUDGET_SECONDS "
        "of waiting); when the budget has none, or the key's plan refuses the calendar (403, "
        "remembered for a day), it is counted deferred / not_entitled, not failed."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--days", type=int, default=60, help="Days ahead (default 60).")
        parser.add_argument(
            "--past-days", type=int, default=7, help="Days back, for actuals (default 7)."
        )
        parser.add_argument(
            "--sources", type=_names, help="Comma-separated: bls, fomc, finnhub (default: all)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Fetch and count; write nothing."
        )

    def run(
        self,
        job: Job,
        *,
        days: int,
        past_days: int,
        sources: list[str] | None,
        dry_run: bool,
        **options: Any,
    ) -> str | None:
        if days < 0 or past_days < 0:
            raise CommandError("--days and --past-days must be 0 or more.")
        today = timezone.now().date()
        try:
            adapters = configured_sources(sources)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not adapters:
            raise JobFailed("No calendar source is configured (CALENDAR_SOURCES).")
        # Finnhub's call waits for its shared budget at most CALENDAR_TIME_BUDGET_SECONDS.
        with run_deadline(settings.CALENDAR_TIME_BUDGET_SECONDS):
            report = calendar_refresh(
                start=today - timedelta(days=past_days),
                end=today + timedelta(days=days),
                sources=adapters,
                dry_run=dry_run,
                log=job.log,
                progress=job.progress,
            )
        for outcome in report.sources:
            job.count("would create" if dry_run else "created", outcome.created)
            job.count("updated", outcome.updated)
            job.count("unchanged", outcome.unchanged)
            job.count("skipped", len(outcome.skipped))
            if outcome.demo_released:
                job.count("demo_events_removed", outcome.demo_released)
            if outcome.error:
                job.count("failed", 1)
            if outcome.deferred:  # budget spent or not in the key's plan: not a failure
                job.count(
                    "not_entitled"
                    if outcome.deferred.startswith(("not entitled", "HTTP 403"))
                    else "deferred",
                    1,
                )
        failed = report.failed_sources
        if failed:
            raise JobFailed(
                "source(s) failed, earlier events kept: "
                + "; ".join(f"{s.name}: {s.error}" for s in failed)
            )
        return "dry run, nothing written" if dry_run else None
