"""Qunex's backtest engine against backtesting.py 0.6.6 on ten years of daily bars.

    .venv/bin/python benchmarks/backtest_engine.py [--data auto|goog|synthetic]

Strategy: SMA crossover, long only, 0.2 % commission, the conventions of
docs/backtest-statistics.md. Two measurements:

1. One run (fast=10, slow=30): backtesting.py's `Backtest.run()` on a prepared Backtest
   against `run_backtest()` (a) from the DataFrame, bar validation included, and (b) on
   prepared Bars with nothing memoised (the counterpart of a prepared Backtest: indicators,
   calendar and statistics are all recomputed). The three are timed in turn, round after
   round, so they share the machine's load; best round of N each.
2. A 100-combination sweep (fast 5..14 x slow 20..65): `Backtest.optimize()` (which spreads
   the runs over every CPU) against `sweep()` on one core, best of a few.

Prints the speed ratios, the largest equity difference, and one summary line.
The goal is >= 50x for the run and >= 100x for the sweep with equal results.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import backtesting  # noqa: E402
from backtesting import Backtest, Strategy  # noqa: E402

from backtests.engine import Bars, Config, run_backtest  # noqa: E402
from backtests.sweep import sweep  # noqa: E402

GOOG_CSV = ROOT.parent / "shared" / "data" / "prices" / "GOOG.csv"
FAST, SLOW = 10, 30
GRID = {"fast": list(range(5, 15)), "slow": list(range(20, 70, 5))}
CONFIG = Config(cash=10_000, commission=0.002)


def synthetic_bars(n: int = 2520, seed: int = 20240607) -> pd.DataFrame:
    """Geometric random walk on business days (the same recipe as tests/backtests)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, n)))
    prev_close = np.r_[100.0, close[:-1]]
    open_ = prev_close * np.exp(np.clip(rng.normal(0, 0.004, n), -0.01, 0.01))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.008, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.008, n)))
    volume = rng.integers(100_000, 2_000_000, n).astype(float)
    index = pd.bdate_range("2014-01-02", periods=n, name="Date")
    return pd.DataFrame(
        {"Open": open_, "High": high, "Low": low, "Close": close, "Volume": volume}, index=index
    )


def load(choice: str) -> tuple[str, pd.DataFrame]:
    if choice == "goog" or (choice == "auto" and GOOG_CSV.exists()):
        return "GOOG.csv", pd.read_csv(GOOG_CSV, index_col=0, parse_dates=True)
    return "synthetic", synthetic_bars()


def sma(values, n: int) -> np.ndarray:
    return pd.Series(values).rolling(n).mean().to_numpy()


class SmaCross(Strategy):
    """The same rule as Qunex's sma_cross: hold while SMA(fast) > SMA(slow)."""

    fast, slow = FAST, SLOW

    def init(self):
        self.state = 0
        self.f = self.I(sma, self.data.Close, self.fast)
        self.s = self.I(sma, self.data.Close, self.slow)

    def next(self):
        wanted = 1 if self.f[-1] > self.s[-1] else 0
        if wanted != self.state:
            self.state = wanted
            if wanted:
                self.buy()
            else:
                self.position.close()


def _cpu() -> float:
    """CPU seconds of this process plus its finished children (backtesting.py's optimize
    runs in a process pool that it shuts down before returning)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def best_of(fn, repeat: int, number: int = 1) -> tuple[float, float]:
    """(wall, cpu): the fastest mean seconds of `number` calls over `repeat` tries.

    CPU time is the fairer clock on a shared machine (other jobs steal wall time from both
    engines, unevenly); wall time is what a user waits.
    """
    return interleaved({"fn": (fn, number)}, repeat)["fn"]


def interleaved(
    cases: dict[str, tuple[Callable[[], Any], int]], repeat: int
) -> dict[str, tuple[float, float]]:
    """(wall, cpu) per case `name: (fn, calls a round)`: the fastest mean seconds of a round's
    calls over `repeat` rounds. Each round times every case in turn, so a burst of load from
    other jobs hits them alike."""
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["auto", "goog", "synthetic"], default="auto")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    backtesting.backtesting._tqdm = lambda seq, **_: seq  # no progress bars

    name, df = load(args.data)
    years = (df.index[-1] - df.index[0]).days / 365.25
    print(f"bars: {name}, {len(df)} daily bars, {years:.1f} years; SMA crossover, 0.2 % commission")
    bt = Backtest(
        df, SmaCross, cash=CONFIG.cash, commission=CONFIG.commission, exclusive_orders=True
    )

    # 1. Single run.
    ref = bt.run()
    ours = run_backtest(df, "sma_cross", {"fast": FAST, "slow": SLOW}, config=CONFIG)
    equity_diff = float(np.max(np.abs(ours.equity.to_numpy() - ref._equity_curve["Equity"])))
    same_trades = [t.entry_bar for t in ours.trades] == ref._trades["EntryBar"].tolist() and [
        t.exit_bar for t in ours.trades
    ] == ref._trades["ExitBar"].tolist()
    params = {"fast": FAST, "slow": SLOW}
    prepared = Bars.from_frame(df)

    def run_ours(data: pd.DataFrame | Bars) -> None:
        # `.equity` builds the pandas Series (backtesting.py builds its equity DataFrame too).
        run_backtest(data, "sma_cross", params, config=CONFIG).equity  # noqa: B018

    timings = interleaved(
        {
            "ref": (bt.run, 1),
            "frame": (lambda: run_ours(df), 50),
            # tail(0): the same arrays in new Bars with an empty memo, so nothing is reused.
            "bars": (lambda: run_ours(prepared.tail(0)), 50),
        },
        args.repeat * 3,
    )
    (ref_wall, ref_cpu), (frame_wall, frame_cpu), (bars_wall, bars_cpu) = timings.values()
    run_ratio, bars_ratio = ref_cpu / frame_cpu, ref_cpu / bars_cpu
    print("single run (best of; CPU time, wall time in brackets)")
    print(f"  backtesting.py Backtest.run()      {ref_cpu * 1e3:8.3f} ms  [{ref_wall * 1e3:8.3f}]")
    print(
        f"  qunex run_backtest(DataFrame)      {frame_cpu * 1e3:8.3f} ms  [{frame_wall * 1e3:8.3f}]"
        f"  x{run_ratio:5.1f}  [x{ref_wall / frame_wall:5.1f}]"
    )
    print(
        f"  qunex run_backtest(prepared Bars)  {bars_cpu * 1e3:8.3f} ms  [{bars_wall * 1e3:8.3f}]"
        f"  x{bars_ratio:5.1f}  [x{ref_wall / bars_wall:5.1f}]"
    )
    print(
        f"  trades {len(ours.trades)} vs {len(ref._trades)} "
        f"({'same entry/exit bars' if same_trades else 'DIFFERENT'}), "
        f"max equity difference ${equity_diff:.2e}"
    )

    # 2. 100-combination sweep.
    def reference_sweep() -> pd.Series:
        _, heatmap = bt.optimize(
            **GRID, maximize="Equity Final [$]", return_heatmap=True, max_tries=None
        )
        return heatmap

    heatmap = reference_sweep()
    result = sweep(df, "sma_cross", GRID, config=CONFIG)
    ours_final = {
        (r["params"]["fast"], r["params"]["slow"]): r["stats"]["Equity Final [$]"]
        for r in result.rows
    }
    sweep_diff = max(
        abs(ours_final[key] - value) / value for key, value in heatmap.items() if value
    )
    assert len(heatmap) == len(ours_final) == result.n_combinations == 100
    ref_wall, ref_cpu = best_of(reference_sweep, max(1, args.repeat // 3))
    ours_wall, ours_cpu = best_of(lambda: sweep(df, "sma_cross", GRID, config=CONFIG), args.repeat)
    sweep_ratio = ref_wall / ours_wall
    print("100-combination sweep (wall time: backtesting.py uses every CPU, Qunex one)")
    print(
        f"  backtesting.py Backtest.optimize() {ref_wall * 1e3:8.1f} ms  (CPU {ref_cpu * 1e3:.0f})"
    )
    print(
        f"  qunex sweep()                      {ours_wall * 1e3:8.1f} ms  (CPU {ours_cpu * 1e3:.0f})"
        f"  x{sweep_ratio:5.1f}  (CPU x{ref_cpu / ours_cpu:.0f})"
    )
    print(f"  max relative difference in final equity over the 100 runs {sweep_diff:.1e}")

    equal = same_trades and equity_diff < 1e-6 and sweep_diff < 1e-9
    ok = min(run_ratio, bars_ratio) >= 50 and sweep_ratio >= 100 and equal
    print(
        f"SUMMARY {name} {len(df)} bars: single run x{run_ratio:.0f} from DataFrame / "
        f"x{bars_ratio:.0f} on prepared bars (goal 50), sweep x{sweep_ratio:.0f} (goal 100), "
        f"results {'equal' if equal else 'DIFFER'} -> {'PASS' if ok else 'BELOW GOAL'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
