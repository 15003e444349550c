from __future__ import annotations

import argparse
from typing import Any

from markets.management.commands._options import symbol_list
from markets.management.commands.refresh_market_data import finish
from markets.refresh import tickers_sync
from qunex.jobs import Job, JobCommand


class Command(JobCommand):
    help = (
        "Fetches ticker details (name, exchange, sector, industry, market cap) and splits and "
        "dividends from the configured vendors (Polygon ticker details, Finnhub profile) for "
        "every active non-demo ticker, or for --tickers, which also adds new symbols to the "
        "universe. Run it when adding tickers and weekly (data-refresh workflow); a second run "
        "changes nothing. A failing ticker is counted and the run goes on; the run fails when "
        "every ticker failed or no vendor key is set."
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
        report = tickers_sync(symbols=tickers, dry_run=dry_run, progress=job.progress, log=job.log)
        return finish(self, job, report)
