"""How fast the project's ingest path (markets.services.bars_upsert) loads daily bars into
PostgreSQL, against a raw COPY of the same rows into an identical empty table.

    psql -h 127.0.0.1 -U postgres -c 'create database qunex_bench'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qunex_bench \\
        .venv/bin/python benchmarks/ingest_bars.py [--bars 1000000]

1. Migrates the benchmark database and creates the tickers (untimed).
2. Builds the Bar records and the equivalent COPY rows in memory (untimed: that is the
   caller's work in both cases).
3. Raw COPY into `bench_copy`, a copy of markets_dailybar with the same columns, defaults,
   indexes (the unique (ticker, date) one too), constraints and foreign key; emptied before
   each load, timed up to the commit.
4. bars_upsert into the emptied markets_dailybar: every bar checked, then (nothing stored
   yet) one COPY straight into the table; timed up to the commit. Then the same load again
   (every bar unchanged: the staging-table upsert), which must write nothing.
5. End to end: the same bars written to one CSV file (symbol column), then
   `manage.py import_prices FILE --calendar none` in a fresh process (parse, check, stream in
   batches, store; its peak memory is reported, goal < 200 MB whatever the size) against a raw
   COPY of that same file into a plain table (`COPY ... FROM STDIN (FORMAT csv, HEADER)`),
   and the floor under any loader of that file: one INSERT ... SELECT of those COPYed,
   already typed rows into markets_dailybar (its unique index and foreign key).
Before each timed load the previous one's dirty pages are flushed (CHECKPOINT), so neither
pays for the other's. The loads alternate, `--repeat` times each, and the best time of each
counts: on a shared machine the worst times measure the neighbours. One summary line at the
end; the goal is a ratio of at least 0.5 of COPY's rate.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qunex.settings")
# A script, not a manage.py job: lift the web statement timeout (qunex/settings.py), as jobs do.
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection, transaction  # noqa: E402

from markets.models import Ticker  # noqa: E402
from markets.providers import Bar  # noqa: E402
from markets.services import UpsertResult, bars_upsert  # noqa: E402

COLUMNS = ("ticker_id", "date", "open", "high", "low", "close", "adj_close", "volume", "source")


def make_bars(n_bars: int, n_tickers: int) -> tuple[list[Bar], list[tuple]]:
    tickers = list(Ticker.objects.filter(symbol__startswith="BENCH").order_by("symbol"))
    per_ticker = n_bars // n_tickers
    days = [date(2000, 1, 3) + timedelta(days=i) for i in range(per_ticker)]
    bars: list[Bar] = []
    rows: list[tuple] = []
    for k, ticker in enumerate(tickers):
        for i, day in enumerate(days):
            close = Decimal(10_000 + (k * 7919 + i * 104_729) % 90_000) / 100
            high, low = close + Decimal("1.25"), close - Decimal("1.10")
            bars.append(Bar(ticker.symbol, day, close, high, low, close, close, 1_000 + i, "bench"))
            rows.append((ticker.pk, day, close, high, low, close, close, 1_000 + i, "bench"))
    return bars, rows


@dataclass
class Timing:
    wall: float  # seconds
    cpu: float | None  # CPU seconds of this process and its server backend, if readable


def timed(fn) -> tuple[Timing, object]:
    """Wall time, and the CPU time spent by this process plus its PostgreSQL backend (read
    from /proc when the server runs on this machine). Other work on a shared machine makes
    wall times wander by several times; CPU time is the work done, whoever else runs."""
    cpu = _cpu_seconds()
    start = time.perf_counter()
    result = fn()
    wall = time.perf_counter() - start
    after = _cpu_seconds()
    return Timing(wall, None if cpu is None or after is None else after - cpu), result


def _cpu_seconds() -> float | None:
    connection.ensure_connection()
    try:
        stat = Path(f"/proc/{connection.connection.info.backend_pid}/stat").read_text()
    except OSError:
        return None
    utime, stime = stat.rsplit(")", 1)[1].split()[11:13]  # fields 14 and 15
    return time.process_time() + (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


def _shown(label: str, t: Timing, n: int) -> str:
    cpu = "" if t.cpu is None else f"  ({t.cpu:5.2f} CPU s)"
    return f"  {label}: {t.wall:6.2f} s  {n / t.wall:>10,.0f} bars/s{cpu}"


def empty(table: str) -> None:
    """Truncate the table, then flush the previous load's dirty pages (CHECKPOINT, when the
    role may), so neither load pays for a checkpoint the other one caused."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass


def copy_load(rows: list[tuple]) -> None:
    sql = f"COPY bench_copy ({', '.join(COLUMNS)}) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def upsert_load(bars: list[Bar]) -> UpsertResult:
    return bars_upsert(bars=bars)


def write_csv(bars: list[Bar], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["symbol", "date", "open", "high", "low", "close", "adj_close", "volume"])
        for b in bars:
            writer.writerow(
                [b.symbol, b.date, b.open, b.high, b.low, b.close, b.adj_close, b.volume]
            )


def copy_file(path: Path) -> None:
    """Raw COPY of the CSV file itself into a plain table with the file's columns."""
    sql = (
        "COPY bench_raw (symbol, date, open, high, low, close, adj_close, volume) "
        "FROM STDIN (FORMAT csv, HEADER)"
    )
    with (
        path.open("rb") as handle,
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.copy(sql) as copy,
    ):
        while chunk := handle.read(1 << 20):
            copy.write(chunk)


def store_typed_rows() -> None:
    """The least any loader of this file must do after reading it: one set-based INSERT of
    the rows, already typed (bench_raw), into markets_dailybar, paying for its unique
    (ticker, date) index and its foreign key, up to the commit."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO markets_dailybar (ticker_id, date, open, high, low, close, adj_close, "
            "volume, source) SELECT t.id, r.date, r.open, r.high, r.low, r.close, r.adj_close, "
            "r.volume, 'bench' FROM bench_raw r JOIN markets_ticker t ON t.symbol = r.symbol"
        )


IMPORT_AND_MEASURE = """
import os, sys, time
import django
django.setup()
from django.core.management import call_command
start = time.perf_counter()
call_command("import_prices", sys.argv[1], "--calendar", "none", verbosity=0)
seconds = time.perf_counter() - start
status = open("/proc/self/status").read()
print(seconds, next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
"""


def import_file(path: Path) -> tuple[float, float, float]:
    """`import_prices` in a fresh process: (wall seconds, seconds inside the command, i.e.
    without starting Python and Django, its peak RSS in MB). The peak is the child's own
    VmHWM (ru_maxrss would count the benchmark's memory, copied at fork)."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_MEASURE, str(path)],
        cwd=Path(__file__).resolve().parents[1],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    seconds, peak = out.stdout.split()[-2:]
    return wall, float(seconds), int(peak) / 1024


def end_to_end(bars: list[Bar], table_copy: float) -> str:
    """`table_copy`: the best raw COPY of the same rows into the table shaped like
    markets_dailybar (its indexes and foreign key), the floor for any load into it."""
    n = len(bars)
    with tempfile.TemporaryDirectory(prefix="qunex-ingest-") as tmp:
        path = Path(tmp) / "bars.csv"
        write_csv(bars, path)
        size_mb = path.stat().st_size / 1e6
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_raw")
            cursor.execute(
                "CREATE TABLE bench_raw (symbol varchar(20), date date, open numeric(18, 6), "
                "high numeric(18, 6), low numeric(18, 6), close numeric(18, 6), "
                "adj_close numeric(18, 6), volume bigint)"
            )
        empty("bench_raw")
        copy_timing, _ = timed(lambda: copy_file(path))
        print(_shown(f"raw COPY of the {size_mb:.0f} MB CSV file", copy_timing, n), flush=True)
        empty("markets_dailybar")
        floor, _ = timed(store_typed_rows)
        print(_shown("  floor: INSERT ... SELECT of those typed rows", floor, n), flush=True)
        empty("markets_dailybar")
        connection.close()  # the child process writes; this one only waits
        wall, inside, peak_mb = import_file(path)
        print(f"  import_prices, end to end: {wall:6.2f} s  {n / wall:>10,.0f} bars/s  "
              f"({inside:.2f} s in the command; peak memory {peak_mb:.0f} MB)", flush=True)  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM markets_dailybar")
            stored = cursor.fetchone()[0]
            cursor.execute("DROP TABLE bench_raw")
        assert stored == n, (stored, n)
    ratio = copy_timing.wall / wall
    verdict = "meets" if ratio >= 0.5 else "MISSES"
    return (
        f"end to end import_prices {n / wall:,.0f} bars/s vs raw COPY of the file "
        f"{n / copy_timing.wall:,.0f} bars/s = {ratio:.2f} ({verdict} the 0.5 goal; storing "
        f"the typed rows alone is {copy_timing.wall / floor.wall:.2f} of that COPY), "
        f"{size_mb:.0f} MB file ({inside:.1f} s of {wall:.1f} s in the command: "
        f"{copy_timing.wall / inside:.2f} of the file COPY without process start-up, "
        f"{table_copy / wall:.2f} of a COPY of the rows into a markets_dailybar-shaped table), "
        f"peak memory {peak_mb:.0f} MB "
        f"({'under' if peak_mb < 200 else 'OVER'} 200 MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--tickers", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a PostgreSQL database of your own (it is emptied)")

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")  # left by an interrupted run
        cursor.execute("TRUNCATE markets_dailybar, markets_quote, markets_corporateaction")
    Ticker.objects.filter(symbol__startswith="BENCH").delete()
    Ticker.objects.bulk_create([Ticker(symbol=f"BENCH{i:04d}") for i in range(args.tickers)])
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_copy (LIKE markets_dailybar INCLUDING ALL)")
        cursor.execute(
            "ALTER TABLE bench_copy ADD FOREIGN KEY (ticker_id) REFERENCES markets_ticker (id) "
            "DEFERRABLE INITIALLY DEFERRED"
        )
    bars, rows = make_bars(args.bars, args.tickers)
    n = len(bars)
    print(f"{n:,} bars for {args.tickers} tickers, best of {args.repeat}", flush=True)

    copies: list[Timing] = []
    upserts: list[Timing] = []
    for attempt in range(args.repeat):
        empty("bench_copy")
        timing, _ = timed(lambda: copy_load(rows))
        copies.append(timing)
        print(_shown(f"raw COPY    #{attempt + 1}", timing, n), flush=True)

        empty("markets_dailybar")
        timing, result = timed(lambda: upsert_load(bars))
        assert result == UpsertResult(created=n), result
        upserts.append(timing)
        print(_shown(f"bars_upsert #{attempt + 1}", timing, n), flush=True)

    timing, result = timed(lambda: upsert_load(bars))
    assert result == UpsertResult(unchanged=n), result
    print(_shown("reload, all unchanged (writes nothing)", timing, n), flush=True)

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    copy_best = min(t.wall for t in copies)
    e2e = end_to_end(bars, copy_best)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE markets_dailybar")
    upsert_best = min(t.wall for t in upserts)
    ratio = copy_best / upsert_best
    verdict = "meets" if ratio >= 0.5 else "MISSES"
    cpu = ""
    if all(t.cpu for t in copies + upserts):
        cpu_ratio = min(t.cpu for t in copies) / min(t.cpu for t in upserts)
        cpu = f"; in CPU time {cpu_ratio:.2f}"
    print(
        f"ingest_bars: {n:,} bars: bars_upsert {n / upsert_best:,.0f} bars/s vs raw COPY "
        f"{n / copy_best:,.0f} bars/s = {ratio:.2f} of COPY's rate ({verdict} the 0.5 goal)"
        f"{cpu}; {e2e}"
    )


if __name__ == "__main__":
    main()
