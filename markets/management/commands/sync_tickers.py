from __future__ import annotations

import argparse
from typing import Any

from markets.budget import budget_purpose
from markets.management.commands._options import symbol_list
from markets.management.commands.refresh_market_data import finish
from markets.refresh import tickers_sync
from qunex.jobs import Job, JobCommand


class Command(JobCommand):
    help = (
        "Syncs ticker reference data (name, exchange, asset type) and splits and dividends. "
        "With a Polygon key it pages through the market-wide lists (the active US listing, "
        "every split and dividend since the last sync: 1000 rows a call, so 5,000 tickers "
        "take tens of calls) and a run stopped by the vendor budget resumes at its page next "
        "time; a split since the last sync marks that ticker's history for a refetch. "
        "Without one, or for up to 10 --tickers, it asks per ticker (Polygon ticker details, "
        "Finnhub profile), least recently synced first. --tickers also adds new symbols to "
        "the universe. Run it when adding tickers and daily (data-refresh workflow); a "
        "second run changes nothing. A failing ticker is counted and the run goes on "
        "(partial); the run fails when every ticker failed, a listing failed, or no vendor "
        "key is set."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--tickers", type=symbol_list, help="Comma-separated symbols to sync (or add)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Fetch and report what would change; write nothing.",
        )

    def run(
        self, job: Job, *, tickers: list[str] | None, dry_run: bool, **options: Any
    ) -> str | None:
        # Reference data is part of getting a ticker's bars (its type decides whether it is
        # refreshed and scored; its splits put Alpha Vantage's as-traded bars on the stored
        # adjusted basis): its calls may use the bar backfill's day reserve
        # (ALPHA_VANTAGE_DAY_RESERVES), not only the calls nobody reserved.
        with budget_purpose("bars"):
            report = tickers_sync(
                symbols=tickers, dry_run=dry_run, progress=job.progress, log=job.log
            )
        return finish(self, job, report)
