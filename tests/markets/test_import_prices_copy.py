"""import_prices on PostgreSQL: files go through COPY, one SQL check and two set-based
INSERTs (`prices_import_copy`); anything that check does not take plainly sends the files to
the row-by-row reader, so errors keep their file, line and column and nothing is stored."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from markets.importers import PriceReader, copy_layout
from markets.models import DailyBar, Ticker
from markets.services import UpsertResult, prices_import_copy
from tests.factories import DailyBarFactory, TickerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
CSV = Path(__file__).resolve().parents[1] / "fixtures" / "csv"
HEADER = "date,open,high,low,close,volume"


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: set DATABASE_URL=postgres://...")


@pytest.fixture
def copy_calls(monkeypatch):
    """What each prices_import_copy call returned (None: declined, read row by row)."""
    from markets.management.commands import import_prices

    calls: list = []

    def spy(**kwargs):
        calls.append(prices_import_copy(**kwargs))
        return calls[-1]

    monkeypatch.setattr(import_prices, "prices_import_copy", spy)
    return calls


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_prices", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _copy(paths: list[Path], *, source: str = "csv", calendar: str = "nyse"):
    layouts = [copy_layout(p, None) for p in paths]
    return prices_import_copy(layouts=layouts, source=source, calendar=calendar)


def test_good_files_go_through_copy_and_a_reload_changes_nothing(copy_calls):
    out, _ = run(CSV / "good")
    assert copy_calls[0] is not None and copy_calls[0].result == UpsertResult(created=7)
    assert "created 7" in out and "files 2" in out and "rows 7" in out
    bar = Ticker.objects.get(symbol="AAPL").bars.get(date=date(2024, 1, 2))
    assert (bar.open, bar.high, bar.low, bar.close, bar.adj_close, bar.volume, bar.source) == (
        Decimal("187.15"),
        Decimal("188.44"),
        Decimal("183.89"),
        Decimal("185.64"),
        Decimal("184.94"),
        82_488_700,
        "csv",
    )
    assert Ticker.objects.get(symbol="BRK.B").bars.get(date=date(2024, 1, 2)).adj_close is None

    out, _ = run(CSV / "good")
    assert copy_calls[1].result == UpsertResult(unchanged=7)
    assert "unchanged 7" in out and "created" not in out


def test_inside_the_stored_span_values_are_updated_outside_they_are_inserted(tmp_path):
    aapl = TickerFactory(symbol="AAPL")
    for day in (date(2024, 1, 2), date(2024, 1, 4)):
        DailyBarFactory(
            ticker=aapl,
            date=day,
            open=5,
            high=6,
            low=4,
            close=5,
            adj_close=None,
            volume=1,
            source="factory",
        )
    path = _write(
        tmp_path / "AAPL.csv",
        [
            "2024-01-02,10,11,9,10,100",  # stored, different: updated
            "2024-01-03,10,11,9,10,100",  # inside the stored span, new
            "2024-01-04,5,6,4,5,1",  # stored, the same: unchanged
            "2024-01-05,10,11,9,10,100",  # after the span: inserted
        ],
    )
    found = _copy([path], source="factory")
    assert found.result == UpsertResult(created=2, updated=1, unchanged=1)
    assert aapl.bars.get(date=date(2024, 1, 2)).close == Decimal(10)
    assert aapl.bars.count() == 4


def test_a_stored_day_twice_in_the_file_is_an_error_even_when_unchanged(tmp_path, copy_calls):
    aapl = TickerFactory(symbol="AAPL")
    DailyBarFactory(
        ticker=aapl,
        date=date(2024, 1, 2),
        open=10,
        high=11,
        low=9,
        close=10,
        adj_close=None,
        volume=100,
        source="csv",
    )
    path = _write(tmp_path / "AAPL.csv", ["2024-01-02,10,11,9,10,100"] * 2)
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 error\\(s\\) in the files; nothing imported"):
        call_command("import_prices", str(path), stderr=err)
    assert copy_calls == [None]
    assert "AAPL.csv line 3, column date: 2024-01-02 for AAPL already on AAPL.csv line 2" in (
        err.getvalue()
    )


def test_a_symbol_column_and_columns_in_any_order(tmp_path, copy_calls):
    path = _write(
        tmp_path / "mixed.csv",
        ["100,12.5,12,13,msft,2024-01-03,12.2,extra", "200,10.5,10,11,NVDA,2024-01-03,10,x"],
        header="Volume,Close,Low,High,Ticker,Date,Open,Note",
    )
    out, _ = run(path, "--source", "stooq")
    assert copy_calls[0] is not None and "created 2" in out
    msft = DailyBar.objects.get(ticker__symbol="MSFT")
    assert (msft.open, msft.high, msft.low, msft.close, msft.volume, msft.source) == (
        Decimal("12.2"),
        Decimal(13),
        Decimal(12),
        Decimal("12.5"),
        100,
        "stooq",
    )


def test_the_session_warning_names_the_same_rows_as_the_row_by_row_reader(tmp_path):
    first = _write(tmp_path / "AAPL.csv", ["2024-01-05,10,11,9,10,100"])
    second = _write(
        tmp_path / "MSFT.csv",
        [
            "2024-01-05,10,11,9,10,100",  # Friday: a session
            "2024-01-06,10,11,9,10,100",  # Saturday
            "2024-01-15,10,11,9,10,100",  # Martin Luther King Jr. Day
            "2024-01-16,10,11,9,10,100",
            "2024-01-20,10,11,9,10,100",  # Saturday
        ],
    )
    reader = PriceReader([first, second])
    list(reader.batches())
    found = _copy([first, second])
    assert found.off_calendar == reader.off_calendar == 3
    assert (
        found.off_calendar_examples
        == reader.off_calendar_examples
        == [
            "MSFT.csv line 3 (MSFT 2024-01-06)",
            "MSFT.csv line 4 (MSFT 2024-01-15)",
            "MSFT.csv line 6 (MSFT 2024-01-20)",
        ]
    )
    assert found.rows == reader.rows == 6 and found.symbols == reader.symbols
    assert _copy([second], calendar="none").off_calendar == 0


def test_a_bad_row_falls_back_to_the_reader_its_message_and_nothing_stored(copy_calls):
    TickerFactory(symbol="AAPL")
    with pytest.raises(CommandError, match="6 error\\(s\\) in the files; nothing imported"):
        run(CSV / "good" / "AAPL.csv", CSV / "malformed")
    assert copy_calls == [None]
    assert not DailyBar.objects.exists()
    assert not Ticker.objects.filter(symbol="MSFT").exists()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["2024-01-02,10,11,9,10,100", "2024-01-02,10,11,9,10,100"], "already on SYN.csv line 2"),
        (["2024-02-30,10,11,9,10,100"], "column date: '2024-02-30' is not a date"),
        (["2024-01-02,0,11,9,10,100"], "column open: '0' is not a positive price"),
        (["2024-01-02,NaN,11,9,10,100"], "column open: 'NaN' is not a positive price"),
        (["2024-01-02,10,11,9,10,1.5"], "column volume: '1.5' is not a whole number"),
        (["2024-1-2,10,11,9,10,100"], "column date: '2024-1-2' is not a date"),
        (["2024-01-02 10:00,10,11,9,10,100"], "column date: '2024-01-02 10:00' is not a date"),
        (["2024-01-02,10,Infinity,9,10,100"], "column high: 'Infinity' is not a positive price"),
        (["2024-01-02,10,11,9,10,-5"], "column volume: '-5' is not a whole number"),
        (["2024-01-02,10,11,9,10,100,7"], None),  # more cells than the header: COPY refuses
        (["2024-01-02,10,11,9,10"], None),  # fewer: COPY refuses, the reader takes volume 0
    ],
)
def test_rows_the_sql_check_refuses_are_worded_by_the_reader(tmp_path, copy_calls, rows, message):
    path = _write(tmp_path / "SYN.csv", rows)
    if message is None:  # the reader takes the row; COPY does not: read row by row
        out, _ = run(path, "--calendar", "none")
        assert copy_calls == [None] and "created 1" in out
        return
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_prices", str(path), "--calendar", "none", stderr=err)
    assert copy_calls == [None]
    assert message in err.getvalue() and "SYN.csv line" in err.getvalue()
    assert not DailyBar.objects.exists()


def test_numbers_the_strict_check_declines_but_the_reader_takes_are_still_stored(
    tmp_path, copy_calls
):
    path = _write(
        tmp_path / "SYN.csv",
        ['2024-01-02,"1,234.5",1300,1200,1250,"1,000"', "2024-01-03,1e3,1300,900,1000,"],
    )
    out, _ = run(path, "--calendar", "none")
    assert copy_calls == [None] and "created 2" in out
    bars = dict(DailyBar.objects.values_list("date", "open"))
    assert bars == {date(2024, 1, 2): Decimal("1234.5"), date(2024, 1, 3): Decimal(1000)}
    assert DailyBar.objects.get(date=date(2024, 1, 3)).volume == 0


@pytest.mark.parametrize(
    ("cells", "stored"),
    [
        ("0.5,.75,.5,0.5,0012", (Decimal("0.5"), Decimal("0.75"), 12)),
        ("5.,6,5,5.0,+7", (Decimal(5), Decimal(6), 7)),
        ("+5, 6 ,5,5,7", (Decimal(5), Decimal(6), 7)),
        ("10.250000,11,9,10,100", (Decimal("10.25"), Decimal(11), 100)),
    ],
)
def test_numbers_not_written_as_the_database_writes_them_are_the_readers(
    tmp_path, copy_calls, cells, stored
):
    """Leading zeros, a bare or trailing point, a sign, spaces: the COPY path declines them
    and the row-by-row reader stores the same values it would store alone."""
    path = _write(tmp_path / "SYN.csv", [f"2024-01-02,{cells}"])
    out, _ = run(path, "--calendar", "none")
    assert "created 1" in out
    bar = DailyBar.objects.get()
    assert (bar.open, bar.high, bar.volume) == stored
    if cells.startswith("10.250000"):  # written as the database writes it: COPY takes it
        assert copy_calls[0] is not None
    else:
        assert copy_calls == [None]


def test_an_empty_symbol_cell_is_an_error_not_a_row_left_out(tmp_path, copy_calls):
    path = _write(
        tmp_path / "prices.csv",
        ["AAPL,2024-01-02,10,11,9,10,100", ",2024-01-03,10,11,9,10,100"],
        header="symbol,date,open,high,low,close,volume",
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_prices", str(path), stderr=err)
    assert copy_calls == [None]
    assert "prices.csv line 3, column symbol: '' is not a ticker symbol" in err.getvalue()
    assert not DailyBar.objects.exists()


def test_a_header_only_file_imports_nothing_through_copy(tmp_path, copy_calls):
    path = _write(tmp_path / "SYN.csv", [])
    out, _ = run(path)
    assert copy_calls[0] is not None and copy_calls[0].rows == 0
    assert "rows 0" in out and not DailyBar.objects.exists()


def test_the_copy_path_does_not_depend_on_the_sessions_date_style(tmp_path, copy_calls):
    """Dates are checked by writing them back as text: a server or role set to another
    DateStyle must not send every file to the slow row-by-row reader."""
    with connection.cursor() as cursor:
        cursor.execute("SET datestyle = 'SQL, DMY'")  # writes 02/01/2024; rolled back after
    path = _write(tmp_path / "SYN.csv", ["2024-01-02,10,11,9,10,100", "2024-01-03,10,11,9,10,5"])
    out, _ = run(path)
    assert copy_calls[0] is not None and "created 2" in out
    assert sorted(DailyBar.objects.values_list("date", flat=True)) == [
        date(2024, 1, 2),
        date(2024, 1, 3),
    ]
