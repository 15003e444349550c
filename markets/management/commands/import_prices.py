from __future__ import annotations

import argparse
from typing import Any

from markets.importers import parse_price_files
from markets.services import IngestError, prices_import
from qunex.jobs import Job, JobCommand, JobFailed

SHOWN_ERRORS = 50


class Command(JobCommand):
    help = (
        "Imports daily prices from CSV files (or every *.csv in a directory): columns date, "
        "open, high, low, close, volume and optionally adj_close; one ticker per file (the "
        "symbol is the file name, AAPL.csv, or --symbol) or a symbol column. Every row is "
        "checked first: any error is reported with its file, line and column and nothing is "
        "imported. Unknown tickers are created; a demo ticker's synthetic history is replaced. "
        "Importing the same file again changes nothing. Use it when no vendor key is set."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", help="CSV files or directories of CSV files.")
        parser.add_argument(
            "--symbol",
            help="Ticker for a single file without a symbol column (default: file name).",
        )
        parser.add_argument(
            "--source", default="csv", help="Source recorded on each bar (default: csv)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the files and report; store nothing."
        )

    def run(
        self,
        job: Job,
        *,
        paths: list[str],
        symbol: str | None,
        source: str,
        dry_run: bool,
        **options: Any,
    ) -> str | None:
        if not 1 <= len(source) <= 20:
            raise JobFailed("--source must be 1 to 20 characters")
        parsed = parse_price_files(paths, symbol=symbol, source=source)
        if symbol and parsed.files > 1:
            raise JobFailed("--symbol applies to a single file; name the files AAPL.csv instead")
        job.count("files", parsed.files)
        job.count("rows", len(parsed.bars))
        if parsed.errors:
            self._report(parsed.errors)
            job.count("row_errors", len(parsed.errors))
            raise JobFailed(f"{len(parsed.errors)} error(s) in the files; nothing imported")
        job.log(f"{len(parsed.bars)} rows for {', '.join(sorted(parsed.symbols))}", level=1)
        if dry_run:
            return "dry run: files are valid, nothing imported"
        try:
            result = prices_import(bars=parsed.bars)
        except IngestError as exc:
            self._report(exc.problems)
            raise JobFailed("the rows could not be stored; nothing imported") from exc
        for name in ("created", "updated", "unchanged"):
            if value := getattr(result, name):
                job.count(name, value)
        return None

    def _report(self, errors: list[str]) -> None:
        for line in errors[:SHOWN_ERRORS]:
            self.stderr.write(line)
        if len(errors) > SHOWN_ERRORS:
            self.stderr.write(f"... and {len(errors) - SHOWN_ERRORS} more")
