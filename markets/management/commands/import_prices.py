from __future__ import annotations

import argparse
from typing import Any

from django.db import connection, reset_queries, transaction

from markets.importers import PriceReader, copy_layout, known_asset_type
from markets.models import Ticker
from markets.services import IngestError, prices_import_batches, prices_import_copy
from qunex.jobs import Job, JobCommand, JobFailed

SHOWN_ERRORS = 50
BATCH = 5_000  # bars read, checked and written at a time: memory stays flat


def _forgetting_queries(batches):
    """With DEBUG on, Django keeps the last 9,000 statements with their parameters (about
    90 MB of SQL for a large import): forget them batch by batch so memory stays flat."""
    for batch in batches:
        reset_queries()
        yield batch


def _set_asset_types(job: Job, symbols, given: str | None) -> None:
    """--asset-type for every imported ticker; without it, known ETFs and indexes only, and
    only where the stored type is still the default (stock)."""
    symbols = sorted(symbols)
    if given:
        changed = (
            Ticker.objects.filter(symbol__in=symbols)
            .exclude(asset_type=given)
            .update(asset_type=given)
        )
    else:
        changed = 0
        for kind in ("etf", "index"):
            wanted = [s for s in symbols if known_asset_type(s) == kind]
            if wanted:
                changed += Ticker.objects.filter(
                    symbol__in=wanted, asset_type=Ticker.AssetType.STOCK
                ).update(asset_type=kind)
    if changed:
        job.count("asset_type_set", changed)


class _RowErrors(Exception):
    """Raised inside the import's transaction to roll back what was already written."""


class Command(JobCommand):
    help = (
        "Imports daily prices from CSV files (or every *.csv in a directory): columns date, "
        "open, high, low, close, volume and optionally adj_close; one ticker per file (the "
        "symbol is the file name, AAPL.csv, or --symbol) or a symbol column. Files are "
        "streamed in batches inside one transaction, so memory stays flat whatever their "
        "size; any row error is reported with its file, line and column and nothing is "
        "imported. Rows dated on a day that is not an NYSE session are counted and warned "
        "about (--calendar none accepts them silently, for non-US or synthetic data). Unknown "
        "tickers are created; a demo ticker's synthetic history is replaced. On PostgreSQL "
        "plainly valid files are COPYed into a staging table and stored by two set-based "
        "statements (several times faster); anything else is read row by row. Importing the "
        "same file again changes nothing. Use it when no vendor key is set. --asset-type "
        "stock/etf/index sets the type of every imported ticker; without it, known funds "
        "(SPY, QQQ, ...) are ETFs and ^-symbols indexes, the rest keep their type (new "
        "tickers: stock). The AI score trains on and scores stocks only."
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
            "--calendar",
            choices=["nyse", "none"],
            default="nyse",
            help="Warn about rows on days that are not NYSE sessions (default), or not (none).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the files and report; store nothing."
        )
        parser.add_argument(
            "--asset-type",
            choices=Ticker.AssetType.values,
            help="Asset type of every imported ticker (default: known ETFs and indexes, "
            "else unchanged; new tickers are stocks).",
        )

    def run(
        self,
        job: Job,
        *,
        paths: list[str],
        symbol: str | None,
        source: str,
        calendar: str,
        dry_run: bool,
        asset_type: str | None = None,
        **options: Any,
    ) -> str | None:
        if not 1 <= len(source) <= 20:
            raise JobFailed("--source must be 1 to 20 characters")
        reader = PriceReader(paths, symbol=symbol, source=source, calendar=calendar)
        if symbol and len(reader.paths) > 1:
            raise JobFailed("--symbol applies to a single file; name the files AAPL.csv instead")
        if not dry_run:
            with transaction.atomic():
                fast = self._copy(reader, symbol, source, calendar)
                if fast:
                    _set_asset_types(job, fast.symbols, asset_type)
        if not dry_run and fast:
            job.count("files", fast.files)
            job.count("rows", fast.rows)
            if fast.off_calendar:
                job.count("off_calendar", fast.off_calendar)
            return self._done(job, fast, fast.result, dry_run=False)
        batches = _forgetting_queries(
            job.progress(reader.batches(BATCH), desc=f"batches of {BATCH:,} rows")
        )
        result = None
        try:
            with transaction.atomic():
                if dry_run:
                    for _ in batches:
                        pass
                else:
                    result = prices_import_batches(batches=batches)
                if reader.errors:
                    raise _RowErrors
                if not dry_run:
                    _set_asset_types(job, reader.symbols, asset_type)
        except _RowErrors:
            self._count(job, reader)
            self._report(reader.errors)
            job.count("row_errors", len(reader.errors))
            raise JobFailed(
                f"{len(reader.errors)} error(s) in the files; nothing imported"
            ) from None
        except IngestError as exc:
            self._count(job, reader)
            self._report(exc.problems)
            raise JobFailed("the rows could not be stored; nothing imported") from exc
        self._count(job, reader)
        return self._done(job, reader, result, dry_run=dry_run)

    @staticmethod
    def _copy(reader: PriceReader, symbol: str | None, source: str, calendar: str):
        """PostgreSQL: the files through COPY and one SQL check (`prices_import_copy`), when
        every file is plainly a header and rows; None sends them to the row-by-row reader."""
        if connection.vendor != "postgresql" or not reader.paths:
            return None
        layouts = [copy_layout(path, symbol) for path in reader.paths]
        if not all(layouts):
            return None
        return prices_import_copy(layouts=layouts, source=source, calendar=calendar)

    def _done(self, job: Job, found: Any, result: Any, *, dry_run: bool) -> str | None:
        """The NYSE-session warning and the counts, whichever path read the files."""
        if found.off_calendar:
            self.stderr.write(
                f"warning: {found.off_calendar} row(s) dated on days that are not NYSE "
                f"sessions, e.g. {'; '.join(found.off_calendar_examples)} "
                "(pass --calendar none for non-US or synthetic data)"
            )
        job.log(f"{found.rows} rows for {', '.join(sorted(found.symbols))}", level=2)
        if dry_run:
            return "dry run: files are valid, nothing imported"
        for name in ("created", "updated", "unchanged"):
            if value := getattr(result, name):
                job.count(name, value)
        return None

    @staticmethod
    def _count(job: Job, reader: PriceReader) -> None:
        job.count("files", reader.files)
        job.count("rows", reader.rows)
        if reader.off_calendar:
            job.count("off_calendar", reader.off_calendar)

    def _report(self, errors: list[str]) -> None:
        for line in errors[:SHOWN_ERRORS]:
            self.stderr.write(line)
        if len(errors) > SHOWN_ERRORS:
            self.stderr.write(f"... and {len(errors) - SHOWN_ERRORS} more")
