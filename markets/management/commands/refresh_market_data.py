from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from django.conf import settings

from markets.management.commands._options import iso_date, positive_int, symbol_list
from markets.refresh import DEFAULT_BACKFILL_DAYS, RunReport, market_data_refresh
from qunex.jobs import Job, JobCommand, JobFailed
from qunex.redaction import redact


class Command(JobCommand):
    help = (
        "Fetches new daily bars for every active non-demo ticker (or --tickers) and, while the "
        "NYSE is open, the latest quotes. New sessions come for the whole market in one "
        "Polygon grouped-daily call each; per-ticker history is fetched only to backfill new "
        "tickers (or after a split), paced by the vendors' shared budgets "
        "(POLYGON_CALLS_PER_MINUTE, ...) within REFRESH_TIME_BUDGET_SECONDS: what does not "
        "fit is deferred to the next run, not failed. Tickers no vendor has bars for are "
        "marked unavailable and skipped. Run hourly (.github/workflows/data-refresh.yml); a "
        "second run changes nothing. The run fails (non-zero exit, the tickers whose bars "
        "failed named) when every fetched ticker failed, when more than "
        "REFRESH_MAX_FAILED_PERCENT (10) % of the tickers' bars or quotes failed, when a "
        "vendor's own 429 cost the run work its budget allowed (REFRESH_FAIL_ON_RATE_LIMIT), "
        "or when real tickers exist but no vendor key is set. With only demo tickers and no "
        "key it succeeds and says so. Naming a demo ticker in --tickers replaces its "
        "synthetic history with real data."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--tickers", type=symbol_list, help="Comma-separated symbols (default: all active)."
        )
        parser.add_argument(
            "--since",
            type=iso_date,
            help="Fetch from this date (YYYY-MM-DD) instead of after the last stored bar.",
        )
        parser.add_argument(
            "--limit", type=positive_int, help="At most N per-ticker fetches, stalest first."
        )
        parser.add_argument(
            "--backfill-days",
            type=positive_int,
            default=DEFAULT_BACKFILL_DAYS,
            help=f"History fetched for a new ticker, in days (default {DEFAULT_BACKFILL_DAYS}).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Fetch and report what would change; write nothing.",
        )

    def run(
        self,
        job: Job,
        *,
        tickers: list[str] | None,
        since: date | None,
        limit: int | None,
        dry_run: bool,
        backfill_days: int,
        **options: Any,
    ) -> str | None:
        report = market_data_refresh(
            symbols=tickers,
            since=since,
            limit=limit,
            dry_run=dry_run,
            backfill_days=backfill_days,
            progress=job.progress,
            log=job.log,
        )
        return finish(self, job, report, strict=True)


def finish(command: JobCommand, job: Job, report: RunReport, *, strict: bool = False) -> str | None:
    """Counts into the job, each failure on stderr, JobFailed when the run as a whole failed.

    `strict` (refresh_market_data) also fails the run when a vendor was rate-limited out of
    it (REFRESH_FAIL_ON_RATE_LIMIT) or when more than REFRESH_MAX_FAILED_PERCENT % of the
    selected tickers could not be refreshed from any vendor; the summary names them."""
    for key, value in sorted(report.counts.items()):
        if value:
            job.count(key, value)
    if job.verbosity >= 1:
        for symbol, reason in sorted(report.failures.items()):
            command.stderr.write(redact(f"{symbol}: {reason}"))
        for symbol, reason in sorted(report.quote_failures.items()):
            command.stderr.write(redact(f"{symbol}: quote: {reason}"))
    if report.fatal:
        raise JobFailed(report.fatal)
    if strict:
        problems = []
        failed, selected = len(report.failures), report.selected
        limit = settings.REFRESH_MAX_FAILED_PERCENT
        if failed and selected and 100 * failed / selected > limit:
            problems.append(
                f"{failed} of {selected} tickers' bars failed "
                f"({100 * failed / selected:.0f}% > REFRESH_MAX_FAILED_PERCENT {limit}%)"
            )
        quotes_failed, asked = len(report.quote_failures), report.quotes_asked
        if quotes_failed and asked and 100 * quotes_failed / asked > limit:
            problems.append(
                f"{quotes_failed} of {asked} quotes failed "
                f"({100 * quotes_failed / asked:.0f}% > REFRESH_MAX_FAILED_PERCENT {limit}%)"
            )
        if report.rate_limited and settings.REFRESH_FAIL_ON_RATE_LIMIT:
            problems += [f"rate-limited out of the run: {exc}" for exc in report.rate_limited]
        if problems:
            raise JobFailed("; ".join(problems) + (f"; {report.note}" if report.note else ""))
    return report.note or None
