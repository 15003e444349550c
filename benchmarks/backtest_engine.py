"""Qunex's backtests against backtesting.py 0.6.6 on GOOG 2004-2013 (2,148 daily bars, the
series backtesting.py ships as `backtesting.test.GOOG`, so this runs anywhere, CI included).

    .venv/bin/python benchmarks/backtest_engine.py [--repeat 7]

Strategy: SMA crossover 10/30, long only, 0.2 % commission; the reference is the canonical
backtesting.py strategy (`crossover()`, `self.buy()`, `self.position.close()`). Measurements:

1. One run: `Backtest.run()` against `run_backtest()` from the DataFrame and on prepared
   Bars with nothing memoised. CPU time, best round of N, the cases interleaved round by round
   so they share the machine's load.
2. A 100-combination sweep (fast 5..14 x slow 20..65): `Backtest.optimize()` (every CPU)
   against `sweep()` (one core), wall time.
3. The job path: a queued job in a throwaway SQLite database holding the GOOG bars is claimed,
   its bars loaded from the database, run, its buy & hold curve and JSON result built and
   stored (`backtests.queue.run_inline`, what a submission runs) -- against ONE
   `Backtest.run()`. Same for a 100-combination sweep job against `Backtest.optimize()`.
4. Cold start: a fresh Python process that sets Django up and runs one job (3) against a
   fresh process that imports backtesting.py and runs one backtest (wall time to exit).

Goals: job path >= 40x one backtesting.py run, 100-combination sweep job >= 100x
optimize(), cold start no slower than backtesting.py's, identical trades. One SUMMARY line.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FAST, SLOW = 10, 30
COMMISSION = 0.002
GRID = {"fast": list(range(5, 15)), "slow": list(range(20, 70, 5))}

REFERENCE_COLD = """
import warnings; warnings.simplefilter("ignore")
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import GOOG, SMA
class SmaCross(Strategy):
    def init(self):
        self.f = self.I(SMA, self.data.Close, 10)
        self.s = self.I(SMA, self.data.Close, 30)
    def next(self):
        if crossover(self.f, self.s):
            self.buy()
        elif crossover(self.s, self.f):
            self.position.close()
Backtest(GOOG, SmaCross, commission=0.002).run()
"""


def _cpu() -> float:
    """CPU seconds of this process plus its finished children (optimize()'s pool)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def interleaved(
    cases: dict[str, tuple[Callable[[], Any], int]], repeat: int
) -> dict[str, tuple[float, float]]:
    """(wall, cpu) per case `name: (fn, calls a round)`: the fastest mean seconds of a round's
    calls over `repeat` rounds, every case timed in turn within a round."""
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, (fn, number) in cases.items():
            wall, cpu = time.perf_counter(), _cpu()
            for _ in range(number):
                fn()
            walls[name].append((time.perf_counter() - wall) / number)
            cpus[name].append((_cpu() - cpu) / number)
    return {name: (min(walls[name]), min(cpus[name])) for name in cases}


def setup_django(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "qunex.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    import django

    django.setup()


def seed_database(database_url: str, df) -> None:
    """The GOOG bars and a user in a fresh database (migrations included)."""
    setup_django(database_url)
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from markets.models import DailyBar, Ticker

    call_command("migrate", verbosity=0)
    if Ticker.objects.exists():
        raise SystemExit("The benchmark needs an empty database: it adds a ticker, bars and jobs.")
    ticker = Ticker.objects.create(symbol="GOOG", name="Alphabet")
    DailyBar.objects.bulk_create(
        DailyBar(
            ticker=ticker,
            date=day.date(),
            open=Decimal(f"{row.Open:.6f}"),
            high=Decimal(f"{row.High:.6f}"),
            low=Decimal(f"{row.Low:.6f}"),
            close=Decimal(f"{row.Close:.6f}"),
            volume=int(row.Volume),
        )
        for day, row in zip(df.index, df.itertuples(), strict=True)
    )
    get_user_model().objects.create_user(username="bench", email="bench@qunex.local")


def queue_job(*, sweep: dict | None = None):
    """A queued GOOG job, written directly (what `backtest_enqueue` stores after its checks)."""
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from backtests.models import Backtest
    from markets.models import Ticker

    now = timezone.now()
    return Backtest.objects.create(
        owner=get_user_model().objects.get(username="bench"),
        ticker=Ticker.objects.get(symbol="GOOG"),
        start=date(2004, 8, 19),
        end=date(2013, 3, 1),
        strategy="sma_cross",
        params={} if sweep else {"fast": FAST, "slow": SLOW},
        commission=COMMISSION,
        sweep=sweep,
        queued_at=now,
        available_at=now,
    )


def cold_job(database_url: str) -> None:
    """`--cold-job`: what a fresh process does to run one job end to end."""
    setup_django(database_url)
    from backtests import queue

    outcome = queue.run_inline(queue_job())
    assert outcome is not None and outcome.status == "succeeded", outcome


def cold_start(args: list[str], rounds: int) -> tuple[float, float]:
    """(wall, cpu): the best of `rounds` fresh processes running `args`, wall time to exit
    and the child's CPU time (user + system; steadier on a shared machine)."""
    best_wall = best_cpu = float("inf")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, cwd=ROOT, env=env)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
    return best_wall, best_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--database-url",
        help="An EMPTY database for the job path (e.g. a throwaway PostgreSQL database); "
        "default: a temporary SQLite file.",
    )
    parser.add_argument("--cold-job", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_job:
        cold_job(args.cold_job)
        return 0

    warnings.simplefilter("ignore")
    import backtesting
    import numpy as np
    import pandas as pd
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover
    from backtesting.test import GOOG

    from backtests.bars import Bars
    from backtests.engine import Config, run_backtest
    from backtests.sweep import sweep

    backtesting.backtesting._tqdm = lambda seq, **_: seq  # no progress bars

    def sma(values, n: int) -> np.ndarray:
        return pd.Series(values).rolling(n).mean().to_numpy()

    class SmaCross(Strategy):
        fast, slow = FAST, SLOW

        def init(self):
            self.f = self.I(sma, self.data.Close, self.fast)
            self.s = self.I(sma, self.data.Close, self.slow)

        def next(self):
            if crossover(self.f, self.s):
                self.buy()
            elif crossover(self.s, self.f):
                self.position.close()

    # optimize() pickles the strategy class for its process pool: make it a module attribute
    # (defined here so that a --cold-job process does not import backtesting.py).
    SmaCross.__qualname__ = "SmaCross"
    globals()["SmaCross"] = SmaCross

    df = GOOG.copy()
    config = Config(cash=10_000, commission=COMMISSION)
    params = {"fast": FAST, "slow": SLOW}
    print(
        f"bars: backtesting.test.GOOG, {len(df)} daily bars; SMA crossover 10/30, 0.2 % commission"
    )
    bt = Backtest(df, SmaCross, cash=10_000, commission=COMMISSION)

    # 1. Single run.
    ref = bt.run()
    ours = run_backtest(df, "sma_cross", params, config=config)
    equity_diff = float(np.max(np.abs(ours.equity.to_numpy() - ref._equity_curve["Equity"])))
    same_trades = [(t.entry_bar, t.exit_bar, t.size) for t in ours.trades] == list(
        zip(ref._trades["EntryBar"], ref._trades["ExitBar"], ref._trades["Size"], strict=True)
    )
    prepared = Bars.from_frame(df)

    def run_ours(data) -> None:
        run_backtest(data, "sma_cross", params, config=config).equity  # noqa: B018

    timings = interleaved(
        {
            "ref": (bt.run, 1),
            "frame": (lambda: run_ours(df), 50),
            "bars": (lambda: run_ours(prepared.tail(0)), 50),  # same arrays, empty memo
        },
        args.repeat * 3,
    )
    ref_run_cpu = timings["ref"][1]
    run_ratio = ref_run_cpu / timings["frame"][1]
    bars_ratio = ref_run_cpu / timings["bars"][1]
    print("1. single run (CPU time, best of)")
    print(f"  backtesting.py Backtest.run()      {ref_run_cpu * 1e3:8.3f} ms")
    print(
        f"  qunex run_backtest(DataFrame)      {timings['frame'][1] * 1e3:8.3f} ms  x{run_ratio:5.1f}"
    )
    print(
        f"  qunex run_backtest(prepared Bars)  {timings['bars'][1] * 1e3:8.3f} ms  x{bars_ratio:5.1f}"
    )
    print(
        f"  trades {len(ours.trades)} vs {len(ref._trades)} "
        f"({'same entry/exit bars and sizes' if same_trades else 'DIFFERENT'}), "
        f"max equity difference ${equity_diff:.2e}"
    )

    # 2. 100-combination sweep.
    def reference_sweep() -> pd.Series:
        return bt.optimize(**GRID, maximize="Equity Final [$]", return_heatmap=True)[1]

    heatmap = reference_sweep()
    result = sweep(df, "sma_cross", GRID, config=config)
    finals = {
        (r["params"]["fast"], r["params"]["slow"]): r["stats"]["Equity Final [$]"]
        for r in result.rows
    }
    sweep_diff = max(abs(finals[key] - value) / value for key, value in heatmap.items())
    assert len(heatmap) == len(finals) == 100
    sweep_t = interleaved(
        {
            "ref": (reference_sweep, 1),
            "ours": (lambda: sweep(df, "sma_cross", GRID, config=config), 5),
        },
        max(2, args.repeat // 2),
    )
    ref_sweep_wall = sweep_t["ref"][0]
    sweep_ratio = ref_sweep_wall / sweep_t["ours"][0]
    print("2. 100-combination sweep (wall time: backtesting.py on every CPU, Qunex on one)")
    print(f"  backtesting.py Backtest.optimize() {ref_sweep_wall * 1e3:8.1f} ms")
    print(
        f"  qunex sweep()                      {sweep_t['ours'][0] * 1e3:8.1f} ms  x{sweep_ratio:5.1f}"
    )
    print(f"  max relative difference in final equity over the 100 runs {sweep_diff:.1e}")

    # 3. The job path, through a throwaway SQLite database.
    with tempfile.TemporaryDirectory(prefix="qunex-bench-") as tmp:
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        print(f"3./4. database: {database_url.split('://')[0]}")
        seed_database(database_url, df)
        from backtests import queue
        from backtests.models import Backtest as Job

        sweep_grid = {k: list(v) for k, v in GRID.items()}
        singles = [queue_job() for _ in range(args.repeat * 10)]
        sweeps = [queue_job(sweep=sweep_grid) for _ in range(args.repeat * 2)]

        def run_next(jobs: list) -> Callable[[], None]:
            def run() -> None:
                outcome = queue.run_inline(jobs.pop())
                assert outcome is not None and outcome.status == "succeeded", outcome

            return run

        job_t = interleaved({"ref": (bt.run, 1), "single": (run_next(singles), 10)}, args.repeat)
        ref_job_cpu = job_t["ref"][1]
        job_ratio = ref_job_cpu / job_t["single"][1]
        sweep_job_t = interleaved(
            {"ref": (reference_sweep, 1), "sweep": (run_next(sweeps), 1)}, max(2, args.repeat // 2)
        )
        sweep_job_ratio = sweep_job_t["ref"][0] / sweep_job_t["sweep"][0]
        stored = Job.objects.filter(status="succeeded", sweep__isnull=True).last()
        same_stored = (
            stored.result["stats"]["# Trades"] == ref["# Trades"]
            and abs(stored.result["stats"]["Equity Final [$]"] - ref["Equity Final [$]"])
            <= 1e-6 * ref["Equity Final [$]"]
        )
        print("3. job path: claim, bars from the database, engine, buy & hold, JSON, stored")
        print(f"  backtesting.py Backtest.run()      {ref_job_cpu * 1e3:8.3f} ms (CPU)")
        print(
            f"  qunex single-run job               {job_t['single'][1] * 1e3:8.3f} ms (CPU)"
            f"  x{job_ratio:5.1f}  [wall {job_t['single'][0] * 1e3:.3f} ms]"
        )
        print(f"  backtesting.py Backtest.optimize() {sweep_job_t['ref'][0] * 1e3:8.1f} ms (wall)")
        print(
            f"  qunex 100-combination sweep job    {sweep_job_t['sweep'][0] * 1e3:8.1f} ms (wall)"
            f"  x{sweep_job_ratio:5.1f}"
        )

        # 4. Cold start.
        rounds = max(3, args.repeat // 2)
        for _ in range(rounds):
            queue_job()  # one queued job for each fresh process
        (ref_cold, ref_cold_cpu) = cold_start(["-c", REFERENCE_COLD], rounds)
        (ours_cold, ours_cold_cpu) = cold_start([__file__, "--cold-job", database_url], rounds)
        print("4. cold start: a fresh process runs one backtest (best of; CPU, wall in brackets)")
        print(
            f"  python + backtesting.py, one run   {ref_cold_cpu * 1e3:8.0f} ms  [{ref_cold * 1e3:.0f}]"
        )
        print(
            f"  python + Django + one Qunex job    {ours_cold_cpu * 1e3:8.0f} ms  [{ours_cold * 1e3:.0f}]"
            f"  x{ref_cold_cpu / ours_cold_cpu:.2f}  [x{ref_cold / ours_cold:.2f}]"
        )

    equal = same_trades and same_stored and equity_diff < 1e-6 and sweep_diff < 1e-9
    ok = job_ratio >= 40 and sweep_job_ratio >= 100 and ours_cold_cpu <= ref_cold_cpu and equal
    print(
        f"SUMMARY GOOG {len(df)} bars: run x{run_ratio:.0f}, sweep x{sweep_ratio:.0f}, "
        f"job path x{job_ratio:.0f} (goal 40), sweep job x{sweep_job_ratio:.0f} (goal 100), "
        f"cold start {ours_cold_cpu:.2f}s vs {ref_cold_cpu:.2f}s CPU, results {'equal' if equal else 'DIFFER'}"
        f" -> {'PASS' if ok else 'BELOW GOAL'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
