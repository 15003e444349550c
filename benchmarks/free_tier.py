"""Does Qunex live within the free vendor tiers? The real jobs (`refresh_market_data`,
`sync_tickers`: adapters, failover, shared budgets, storage) against the fake free-tier
vendor of the tests (tests/markets/free_tier_vendor.py: Polygon 5 calls a minute and no
snapshots, Finnhub 60 a minute, Alpha Vantage 25 a day, over HTTP on 127.0.0.1), hour by
hour in virtual time, for N tickers:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qunex_bench \\
        .venv/bin/python benchmarks/free_tier.py [--sizes 50,500,5000] [--days 2]

1. Steady state: N tickers whose history is loaded; `--days` trading days of the hourly
   job as .github/workflows/data-refresh.yml runs it at :07 (`refresh_market_data`, then
   `refresh_news`, then `refresh_calendar`, back to back, all on the same shared vendor
   budgets), plus the daily `sync_tickers` (06:17) and `refresh_insider_trades` (01:00,
   insider-refresh.yml). Printed: vendor calls per hourly job (max) and per session,
   quote calls, whether each hourly run was green, tickers fresh (last bar = the last
   completed session) at the end of each day; then, per vendor, the whole hourly job's
   calls (prices + news + calendar) at most in one run and a day, the insider job's, and
   Alpha Vantage's day by purpose (ALPHA_VANTAGE_DAY_RESERVES).
2. From empty: N new tickers, 24 hourly runs (history `--backfill-days` deep): tickers
   whose history was loaded per day, so the days until all N are loaded.
3. Storage (PostgreSQL only): bytes per stored bar, table and indexes together
   (pg_total_relation_size) after loading `--storage-bars` bars, and the ticker-years
   (252 bars) that fit in a 500 MB free database.
Time is virtual (time-machine): a budget that waits for the next minute moves the clock,
not the benchmark. The Redis commands the budget spends per vendor call are counted; the
Redis cost of the web feed per user is benchmarks/feed_load.py's part (the feed's own
benchmark), so it is not repeated here.
The vendor is tests/insights/free_tier_vendor.py's `HourlyJobVendor` (the market fake plus
Polygon news, Finnhub company news / insider transactions / the economic calendar, which the
free plan refuses with 403, NewsAPI at 100 a day, and a keyless SEC EDGAR); the keyless RSS
feeds and the BLS/FOMC schedules are not budgeted and not part of this measure.
The database is emptied of market data (tickers, bars, quotes): use a scratch database.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/free_tier.sqlite3"
os.environ["REDIS_URL"] = ""  # the budgets run in virtual time: local-memory cache
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qunex.settings")
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django

django.setup()

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import CommandError, call_command  # noqa: E402
from django.db import connection  # noqa: E402

import markets.budget as budget_module  # noqa: E402
from markets import calendar  # noqa: E402
from markets.models import (  # noqa: E402
    CorporateAction,
    DailyBar,
    MarketDataState,
    Quote,
    Ticker,
)
from markets.providers import Bar  # noqa: E402
from markets.refresh import last_completed_session  # noqa: E402
from markets.services import bars_upsert  # noqa: E402
from qunex.models import JobRun  # noqa: E402
from tests.insights.free_tier_vendor import HourlyJobVendor as FreeTierVendor  # noqa: E402
from tests.markets.free_tier_vendor import FakeMarket  # noqa: E402

START = datetime(2026, 11, 30, 0, 7, tzinfo=UTC)  # a Monday; runs at :07 each hour
VENDORS = ("polygon", "finnhub", "alphavantage")
BUDGETED = (*VENDORS, "newsapi")
HOURLY = ("refresh_market_data", "refresh_news", "refresh_calendar")


class VirtualTime:
    """markets.budget's clock: a wait moves time-machine's clock instead of sleeping."""

    def __init__(self, traveller) -> None:
        self.traveller = traveller

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        self.traveller.shift(seconds)


class Counting:
    """Counts the cache commands (Redis commands in production) the budgets send."""

    def __init__(self, inner) -> None:
        self.inner, self.commands = inner, 0

    def __getattr__(self, name):
        method = getattr(self.inner, name)

        def call(*args, **kwargs):
            self.commands += 1
            return method(*args, **kwargs)

        return call


def reset(vendor: FreeTierVendor, traveller, at: datetime) -> Counting:
    """Empty market data, caches and budgets, with the clock at `at` (never backwards
    within one phase: the cache and the vendor's minute windows follow the clock)."""
    traveller.move_to(at)
    Quote.objects.all().delete()
    DailyBar.objects.all().delete()
    CorporateAction.objects.all().delete()
    MarketDataState.objects.all().delete()
    Ticker.objects.all().delete()
    JobRun.objects.all().delete()
    cache.clear()
    vendor.calls.clear()
    vendor.reset_minute()
    budget_module._budgets.clear()
    counting = Counting(cache)
    for name in BUDGETED:
        budget_module.budget_for(name)._cache = counting
    return counting


def make_tickers(n: int, *, loaded_through: date | None) -> None:
    Ticker.objects.bulk_create(
        [Ticker(symbol=f"S{i:04d}", name=f"S{i:04d} Corp", is_demo=False) for i in range(n)]
    )
    if loaded_through is None:
        return
    one = Decimal(50)
    bars = [
        Bar(f"S{i:04d}", loaded_through, one, one, one, one, one, 1, "polygon") for i in range(n)
    ]
    bars_upsert(bars=bars)


def job(command: str, *args: str) -> tuple[bool, dict[str, int]]:
    try:
        call_command(command, *args, stdout=io.StringIO(), stderr=io.StringIO(), verbosity=0)
        green = True
    except CommandError:
        green = False
    return green, dict(JobRun.objects.latest("started_at").counts)


def budget_calls() -> dict[str, int]:
    """Calls every job of this process took from each vendor's shared budget so far."""
    return {v: budget_module.budget_for(v).calls for v in BUDGETED}


def hourly_job(backfill: int) -> tuple[dict[str, bool], dict[str, int], dict[str, int]]:
    """The workflow's vendor steps back to back: ({step: green}, prices' counts, vendor
    calls of the whole hourly job)."""
    before = budget_calls()
    greens = {}
    green, counts = job("refresh_market_data", "--backfill-days", str(backfill))
    greens["prices"] = green
    greens["news"], _ = job("refresh_news")
    greens["calendar"], _ = job("refresh_calendar")
    after = budget_calls()
    return greens, counts, {v: after[v] - before[v] for v in BUDGETED}


def calls(counts: dict[str, int], vendor: str) -> int:
    return counts.get(f"calls_{vendor}", 0)


def fresh_tickers() -> int:
    end = last_completed_session()
    return DailyBar.objects.filter(date=end).values("ticker").distinct().count()


def steady(n: int, days: int, vendor: FreeTierVendor, traveller, backfill: int) -> dict:
    first_session = calendar.sessions(START.date(), START.date() + timedelta(days=7))[0]
    counting = reset(vendor, traveller, START)
    make_tickers(n, loaded_through=calendar.last_session(first_session - timedelta(days=1)))
    runs, per_day, job_calls = [], [], Counter()
    sync_calls = Counter()
    hourly_max, hourly_day, insider_calls = Counter(), Counter(), Counter()
    step_greens, alpha_purposes = Counter(), {}
    for hour in range(24 * days):
        at = START + timedelta(hours=hour)
        if at.hour == 1:  # 01:00 daily: insider trades (EDGAR; Finnhub for the rest)
            traveller.move_to(max(at - timedelta(minutes=7), datetime.now(UTC)))
            before = budget_calls()
            green, _ = job("refresh_insider_trades", "--days", "3")
            step_greens["insiders"] += green
            for v, n in budget_calls().items():
                insider_calls[v] += n - before[v]
        traveller.move_to(max(at, datetime.now(UTC)))
        if at.hour == 6:  # 06:17 daily: the reference data
            traveller.move_to(at + timedelta(minutes=10))
            _, counts = job("sync_tickers")
            for v in VENDORS:
                sync_calls[v] += calls(counts, v)
        greens, counts, used = hourly_job(backfill)
        green = all(greens.values())
        runs.append(green)
        for step, ok in greens.items():
            step_greens[step] += ok
        for v, n in used.items():
            hourly_max[v] = max(hourly_max[v], n)
            hourly_day[v] += n
        if hour % 24 == 23:
            alpha = budget_module.budget_for("alphavantage")
            alpha_purposes = alpha._purposes_used() if alpha.reserves else {}
        for v in VENDORS:
            job_calls[v] += calls(counts, v)
        job_calls["max_polygon"] = max(job_calls["max_polygon"], calls(counts, "polygon"))
        job_calls["quotes"] += counts.get("quotes_created", 0) + counts.get("quotes_updated", 0)
        job_calls["quotes"] += counts.get("quotes_unchanged", 0)
        if hour % 24 == 23:
            per_day.append(fresh_tickers())
    last_day = (START + timedelta(days=days - 1)).date()
    sessions = len(calendar.sessions(START.date(), last_day)) or 1
    vendor_calls = sum(counts for key, counts in vendor.calls.items() if ":" in key)
    return {
        "runs": runs,
        "fresh_per_day": per_day,
        "polygon_per_session": (job_calls["polygon"] + sync_calls["polygon"]) / sessions,
        "refresh_polygon_per_session": job_calls["polygon"] / sessions,
        "max_polygon_per_job": job_calls["max_polygon"],
        "sync_polygon_per_day": sync_calls["polygon"] / days,
        "finnhub_per_day": (job_calls["finnhub"] + sync_calls["finnhub"]) / days,
        "alphavantage_per_day": (job_calls["alphavantage"] + sync_calls["alphavantage"]) / days,
        "quotes_per_day": job_calls["quotes"] / days,
        "vendor_429": vendor.calls["polygon:429"]
        + vendor.calls["finnhub:429"]
        + vendor.calls["newsapi:429"],
        "hourly_max": dict(hourly_max),
        "hourly_per_day": {v: n / days for v, n in hourly_day.items()},
        "insider_per_day": {v: n / days for v, n in insider_calls.items()},
        "step_greens": dict(step_greens),
        "alpha_purposes": alpha_purposes,
        "budget_commands_per_call": counting.commands / max(1, vendor_calls),
    }


def from_empty(n: int, vendor: FreeTierVendor, traveller, backfill: int, days: int) -> dict:
    start = START + timedelta(days=days + 1)
    reset(vendor, traveller, start - timedelta(minutes=50))
    make_tickers(n, loaded_through=None)
    job("sync_tickers")  # splits first, so Alpha Vantage's bars can be converted
    runs = []
    for hour in range(24):
        traveller.move_to(max(start + timedelta(hours=hour), datetime.now(UTC)))
        green, _ = job("refresh_market_data", "--backfill-days", str(backfill))
        runs.append(green)
    loaded = DailyBar.objects.values("ticker").distinct().count()
    return {"runs": runs, "loaded_first_day": loaded, "days_to_load": n / max(1, loaded)}


def storage(n_bars: int) -> tuple[float, int] | None:
    if connection.vendor != "postgresql":
        return None
    DailyBar.objects.all().delete()
    Ticker.objects.all().delete()
    per_ticker = 2520  # ten years
    n_tickers = max(1, n_bars // per_ticker)
    Ticker.objects.bulk_create([Ticker(symbol=f"B{i:04d}") for i in range(n_tickers)])
    days = calendar.sessions(date(2015, 1, 1), date(2026, 12, 31))[:per_ticker]
    for k in range(n_tickers):
        bars = []
        for i, day in enumerate(days):
            close = Decimal(10_000 + (k * 7919 + i * 104_729) % 90_000) / 100
            high, low = close + Decimal("1.25"), close - Decimal("1.10")
            bars.append(
                Bar(f"B{k:04d}", day, close, high, low, close, close, 1_000_000 + i, "polygon")
            )
        bars_upsert(bars=bars)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE markets_dailybar")
        cursor.execute(
            "SELECT pg_total_relation_size('markets_dailybar'), count(*) FROM markets_dailybar"
        )
        size, rows = cursor.fetchone()
    per_bar = size / rows
    return per_bar, int(500 * 1024 * 1024 / per_bar / 252)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50,500,5000")
    parser.add_argument("--days", type=int, default=2, help="steady-state days (sessions)")
    parser.add_argument("--backfill-days", type=int, default=30, help="history per new ticker")
    parser.add_argument("--storage-bars", type=int, default=252_000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    call_command("migrate", verbosity=0)
    settings.REFRESH_TIME_BUDGET_SECONDS = 240
    settings.NEWS_RSS_FEEDS = []  # keyless, not budgeted: not part of this measure
    settings.CALENDAR_SOURCES = ["finnhub"]
    settings.SEC_MAX_REQUESTS_PER_SECOND = 1_000_000  # EDGAR is keyless; its pace is real time
    print(f"database: {connection.vendor}; hourly runs, {settings.REFRESH_TIME_BUDGET_SECONDS} s "
          "of budget each; free tiers: Polygon 5/min (no snapshots), Finnhub 60/min, "
          "Alpha Vantage 25/day")  # fmt: skip
    rows = []
    with time_machine.travel(START, tick=False) as traveller:
        budget_module.time = VirtualTime(traveller)  # type: ignore[assignment]
        for n in sizes:
            vendor = FreeTierVendor(FakeMarket.of(n))
            vendor.settings(settings)
            settings.MARKET_DATA_PROVIDERS = list(VENDORS)
            started = time.perf_counter()
            s = steady(n, args.days, vendor, traveller, args.backfill_days)
            vendor.close()
            vendor = FreeTierVendor(FakeMarket.of(n))  # a fresh minute window and day count
            vendor.settings(settings)
            e = from_empty(n, vendor, traveller, args.backfill_days, args.days)
            vendor.close()
            rows.append((n, s, e, time.perf_counter() - started))
            print(
                f"N={n:>5}: Polygon {s['polygon_per_session']:.1f} calls/session "
                f"(refresh {s['refresh_polygon_per_session']:.1f}, max {s['max_polygon_per_job']} "
                f"in one hourly job; sync {s['sync_polygon_per_day']:.0f}/day), Finnhub "
                f"{s['finnhub_per_day']:.0f}/day ({s['quotes_per_day']:.0f} quotes), Alpha "
                f"Vantage {s['alphavantage_per_day']:.0f}/day; hourly runs green "
                f"{sum(s['runs'])}/{len(s['runs'])}; fresh at day end {s['fresh_per_day']} of {n}; "
                f"vendor 429s {s['vendor_429']}; budget cache commands/call "
                f"{s['budget_commands_per_call']:.2f} | from empty: {e['loaded_first_day']} "
                f"loaded on day 1 (green {sum(e['runs'])}/{len(e['runs'])}), all in "
                f"{e['days_to_load']:.1f} day(s) [{time.perf_counter() - started:.0f} s]",
                flush=True,
            )
            hours = len(s["runs"])
            for v in BUDGETED:
                print(
                    f"    {v:>12}: whole hourly job (prices + news + calendar) at most "
                    f"{s['hourly_max'].get(v, 0)} calls a run, {s['hourly_per_day'].get(v, 0):.0f} "
                    f"a day; insider job {s['insider_per_day'].get(v, 0):.0f} a day",
                    flush=True,
                )
            steps = ", ".join(f"{k} {n}/{hours if k != 'insiders' else args.days}"
                              for k, n in s["step_greens"].items())  # fmt: skip
            print(f"    green: {steps}; Alpha Vantage by purpose on the last day: "
                  f"{s['alpha_purposes']}", flush=True)  # fmt: skip
    measured = storage(args.storage_bars)
    if measured:
        per_bar, ticker_years = measured
        print(f"storage: {per_bar:.0f} bytes per bar with its indexes; "
              f"{ticker_years:,} ticker-years fit in 500 MB")  # fmt: skip
    else:
        print("storage: PostgreSQL only (set DATABASE_URL=postgres://...)")
    greens = all(all(s["runs"]) and all(e["runs"]) for _, s, e, _ in rows)
    print(f"summary: {len(rows)} sizes; every hourly run green: {'yes' if greens else 'NO'}; "
          f"max Polygon calls in one job {max(s['max_polygon_per_job'] for _, s, _, _ in rows)}")  # fmt: skip


if __name__ == "__main__":
    main()
