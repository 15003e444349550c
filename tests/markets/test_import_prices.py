"""import_prices: one ticker per file or a symbol column; every row checked first; any error
names its file, line and column and nothing is imported."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from markets.models import DailyBar, Quote, Ticker
from tests.factories import DailyBarFactory, QuoteFactory, TickerFactory

pytestmark = pytest.mark.django_db
CSV = Path(__file__).resolve().parents[1] / "fixtures" / "csv"
SHARED_GOOG = Path(__file__).resolve().parents[3] / "shared" / "data" / "prices" / "GOOG.csv"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_prices", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_directory_of_files_one_ticker_each_then_again_changes_nothing():
    out, _ = run(CSV / "good")
    assert "created 7" in out and "files 2" in out
    aapl = Ticker.objects.get(symbol="AAPL")
    assert not aapl.is_demo
    bar = aapl.bars.get(date=date(2024, 1, 2))
    assert (bar.open, bar.high, bar.low, bar.close, bar.adj_close, bar.volume, bar.source) == (
        Decimal("187.15"),
        Decimal("188.44"),
        Decimal("183.89"),
        Decimal("185.64"),
        Decimal("184.94"),
        82_488_700,
        "csv",
    )
    assert Ticker.objects.get(symbol="BRK.B").bars.count() == 2

    out, _ = run(CSV / "good")
    assert "unchanged 7" in out and "created" not in out


def test_a_file_with_a_symbol_column_and_a_source():
    out, _ = run(CSV / "prices_by_symbol.csv", "--source", "stooq")
    assert "created 4" in out
    assert set(DailyBar.objects.values_list("ticker__symbol", "source").distinct()) == {
        ("MSFT", "stooq"),
        ("NVDA", "stooq"),
    }


def test_symbol_option_names_the_ticker_of_one_file(tmp_path):
    path = tmp_path / "download.csv"
    path.write_text((CSV / "good" / "brk.b.csv").read_text())
    run(path, "--symbol", "brk.b")
    assert Ticker.objects.get(symbol="BRK.B").bars.count() == 2


def test_a_malformed_file_reports_every_row_and_imports_nothing():
    TickerFactory(symbol="AAPL")
    with pytest.raises(CommandError, match="6 error\\(s\\) in the files; nothing imported"):
        run(CSV / "good" / "AAPL.csv", CSV / "malformed")
    _, err = _stderr_of(CSV / "good" / "AAPL.csv", CSV / "malformed")
    assert err.splitlines() == [
        "MSFT.csv line 3, column high: 'abc' is not a number",
        "MSFT.csv line 4, column high: 368.00 is below open, low or close",
        "MSFT.csv line 4, column low: 371.00 is above open or close",
        "MSFT.csv line 5, column date: '02/01/2024' is not a date (YYYY-MM-DD; daily bars only)",
        "MSFT.csv line 6, column volume: '-5' is not a whole number of shares",
        "MSFT.csv line 7, column date: 2024-01-02 for MSFT already on MSFT.csv line 2",
    ]
    assert not DailyBar.objects.exists()  # not even the good file's rows
    assert not Ticker.objects.filter(symbol="MSFT").exists()


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "AAPL.csv"
    path.write_text("date,open,close\n2024-01-02,1,2\n")
    _, err = _stderr_of(path)
    assert (
        err.strip()
        == "AAPL.csv line 1: missing column(s) high, low, volume (found date, open, close)"
    )


def test_a_file_name_that_is_not_a_symbol_needs_the_option(tmp_path):
    path = tmp_path / "my prices (1).csv"
    path.write_text("date,open,high,low,close,volume\n2024-01-02,1,1,1,1,1\n")
    _, err = _stderr_of(path)
    assert "is not a ticker symbol; name the file AAPL.csv, pass --symbol" in err


def test_dry_run_checks_and_stores_nothing():
    out, _ = run(CSV / "good", "--dry-run")
    assert "dry run: files are valid" in out and "rows 7" in out
    assert not DailyBar.objects.exists() and not Ticker.objects.exists()


def test_importing_into_a_demo_ticker_replaces_its_synthetic_history():
    demo = TickerFactory(symbol="AAPL", is_demo=True)
    DailyBarFactory(ticker=demo, date=date(2023, 6, 1), source="demo")
    QuoteFactory(ticker=demo, source="demo")
    run(CSV / "good" / "AAPL.csv")
    demo.refresh_from_db()
    assert not demo.is_demo
    assert set(demo.bars.values_list("source", flat=True)) == {"csv"}
    assert not Quote.objects.filter(ticker=demo).exists()  # the demo quote went too


def test_no_such_file_is_an_error(tmp_path):
    _, err = _stderr_of(tmp_path / "NOPE.csv")
    assert "NOPE.csv: no such file" in err


@pytest.mark.skipif(not SHARED_GOOG.exists(), reason="../shared/data is not present")
def test_a_real_recorded_file_imports_cleanly():
    """GOOG 2004-2013 as pandas wrote it (unnamed date column), from kernc/backtesting.py."""
    out, _ = run(SHARED_GOOG)
    goog = Ticker.objects.get(symbol="GOOG")
    assert goog.bars.count() == 2148
    assert goog.bars.get(date=date(2004, 8, 19)).close == Decimal("100.34")
    assert "created 2148" in out


def _stderr_of(*paths: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_prices", *map(str, paths), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- streaming and the NYSE calendar (issue 14 §4, issue 12 §4) -----------------------------


def _write(path: Path, rows: list[str], header: str = "date,open,high,low,close,volume") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_rows_on_days_that_are_not_sessions_are_warned_about_and_counted(tmp_path):
    path = _write(
        tmp_path / "AAPL.csv",
        [
            "2024-01-05,10,11,9,10,100",  # Friday: a session
            "2024-01-06,10,11,9,10,100",  # Saturday
            "2024-01-15,10,11,9,10,100",  # Martin Luther King Jr. Day: NYSE closed
        ],
    )
    out, err = run(path)
    assert "off_calendar 2" in out and "created 3" in out
    assert "warning: 2 row(s) dated on days that are not NYSE sessions" in err
    assert "AAPL.csv line 3 (AAPL 2024-01-06)" in err
    assert DailyBar.objects.count() == 3  # warned, still imported


def test_calendar_none_accepts_any_day_silently(tmp_path):
    path = _write(tmp_path / "SYN.csv", ["2024-01-06,10,11,9,10,100"])
    out, err = run(path, "--calendar", "none")
    assert "off_calendar" not in out and err == ""
    assert DailyBar.objects.count() == 1


def test_a_bad_row_after_batches_were_written_rolls_everything_back(tmp_path, monkeypatch):
    monkeypatch.setattr("markets.management.commands.import_prices.BATCH", 2)
    rows = [f"2024-01-{d:02d},10,11,9,10,100" for d in (2, 3, 4, 5, 8, 9)]
    path = _write(tmp_path / "AAPL.csv", [*rows, "2024-01-10,10,abc,9,10,100"])
    with pytest.raises(CommandError, match="1 error\\(s\\) in the files; nothing imported"):
        run(path)
    assert not DailyBar.objects.exists()
    assert not Ticker.objects.exists()


def test_the_reader_streams_in_bounded_batches(tmp_path):
    from datetime import timedelta

    from markets.importers import PriceReader

    start = date(2000, 1, 3)
    rows = [f"{start + timedelta(days=i)},10,11,9,10,100" for i in range(1050)]
    reader = PriceReader([_write(tmp_path / "AAPL.csv", rows)], calendar="none")
    sizes = [len(batch) for batch in reader.batches(size=100)]
    assert sizes == [100] * 10 + [50]
    assert reader.rows == 1050 and not reader.errors


def test_a_duplicate_far_apart_is_found_and_named(tmp_path):
    from datetime import timedelta

    start = date(2000, 1, 3)
    rows = [f"{start + timedelta(days=i)},10,11,9,10,100" for i in range(3000)]
    rows.append("2000-01-03,10,11,9,10,100")  # the first row again, 3000 lines later
    with pytest.raises(CommandError):
        run(_write(tmp_path / "AAPL.csv", rows), "--calendar", "none")
    _, err = _stderr_of(tmp_path / "AAPL.csv", "--calendar", "none")
    assert err.splitlines() == [
        "AAPL.csv line 3002, column date: 2000-01-03 for AAPL already on AAPL.csv line 2"
    ]
