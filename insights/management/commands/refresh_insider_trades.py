from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from insights.insiders.demo import insiders_demo_release
from insights.insiders.providers.finnhub import FinnhubInsiders
from insights.insiders.providers.sec import SecEdgar, SecError
from insights.insiders.services import RefreshReport, insiders_load_dir, insiders_refresh
from qunex.jobs import Job, JobCommand, JobFailed


def _symbols(value: str) -> list[str]:
    symbols = [s.strip().upper() for s in value.split(",") if s.strip()]
    if not symbols or any(not s.replace(".", "").replace("-", "").isalnum() for s in symbols):
        raise argparse.ArgumentTypeError("give comma-separated ticker symbols, e.g. AAPL,MSFT")
    return symbols


class Command(JobCommand):
    help = (
        "Loads insider trades from SEC Form 4 and 4/A filings: for every active stock Qunex "
        "knows (or --tickers), the filings of the last --days from EDGAR, each parsed from its "
        "ownership XML (DTDs and entities refused). Needs SEC_USER_AGENT ('Name email'), stays "
        "under 10 requests per second. --from-dir loads XML files from a folder instead "
        "(backfills, offline). Runs daily (insider-refresh workflow); a second run changes "
        "nothing. A malformed filing is skipped and counted; the run fails when the whole "
        "source failed. With FINNHUB_API_KEY, Finnhub's insider transactions fill in for the "
        "companies EDGAR could not give; those Finnhub's shared budget cannot serve within "
        "INSIDER_FINNHUB_SECONDS are counted deferred (not failed) and asked by the next run."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--days", type=int, default=7, help="Filings of the last N days (7).")
        parser.add_argument("--tickers", type=_symbols, help="Comma-separated symbols.")
        parser.add_argument("--limit", type=int, help="At most N filings.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Fetch and parse; write nothing."
        )
        parser.add_argument("--from-dir", type=Path, help="Load Form 4 XML files from this folder.")

    def run(self, job: Job, *, days: int, tickers, limit, dry_run: bool, from_dir, **options: Any):
        if days < 1 or (limit is not None and limit < 1):
            raise CommandError("--days and --limit must be 1 or more.")
        if from_dir is not None:
            if not from_dir.is_dir():
                raise CommandError(f"--from-dir {from_dir}: not a folder")
            report = insiders_load_dir(
                path=from_dir, limit=limit, dry_run=dry_run, progress=job.progress
            )
        else:
            try:
                edgar = SecEdgar()
                fallback = FinnhubInsiders() if settings.FINNHUB_API_KEY else None
                report = insiders_refresh(
                    edgar=edgar,
                    fallback=fallback,
                    days=days,
                    symbols=tickers,
                    limit=limit,
                    dry_run=dry_run,
                    log=job.log,
                    progress=job.progress,
                )
            except SecError as exc:
                raise JobFailed(str(exc)) from exc
        return _finish(job, report, dry_run=dry_run)


def _finish(job: Job, report: RefreshReport, *, dry_run: bool) -> str | None:
    job.count("filings", report.filings)
    job.count(
        "new filings" if not dry_run else "would store",
        report.created if not dry_run else report.filings,
    )
    job.count("transactions", report.transactions)
    if report.created and not dry_run and (removed := insiders_demo_release()):
        job.count("demo filings removed", removed)  # real filings replace seed_demo's
    if report.replaced:
        job.count("replaced by amendments", report.replaced)
    job.count("skipped", len(report.skipped))
    job.count("failed", len(report.failed))
    if report.deferred:  # the vendor budget ran out: left for the next run, not failed
        job.count("deferred", len(report.deferred))
    for reason in report.skipped[:20]:
        job.log(f"skipped {reason}", level=2)
    for reason in report.failed[:20]:
        job.log(f"failed {reason}", level=2)
    if report.deferred:
        job.log(f"deferred to the next run: {', '.join(report.deferred[:20])}", level=2)
    asked = report.companies - len(report.deferred)
    if asked and report.companies_failed == asked:
        raise JobFailed(f"every company failed: {report.failed[0]}")
    if report.failed and not report.filings:
        raise JobFailed(f"no filing could be fetched: {report.failed[0]}")
    return "dry run, nothing written" if dry_run else None
