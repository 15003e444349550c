"""Qunex's backtest engine against backtesting.py 0.6.6 on ten years of daily bars.

    .venv/bin/python benchmarks/backtest_engine.py [--data auto|goog|synthetic]

Strategy: SMA crossover, long only, 0.2 % commission, the conventions of
docs/backtest-statistics.md. Two measurements:

1. One run (fast=10, slow=30): backtesting.py's `Backtest.run()` on a prepared Backtest
   against `run_backtest()` from the DataFrame (bar validation included), best of N each.
2. A 100-combination sweep (fast 5..14 x slow 20..65): `Backtest.optimize()` (which spreads
   the runs over every CPU) against `sweep()` on one core, best of a few.

Prints the speed ratios, the largest equity difference, and one summary line.
The goal is >= 50x for the run and >= 100x for the sweep with equal results.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import backtesting  # noqa: E402
from backtesting import Backtest, Strategy  # noqa: E402

from backtests.engine import Config, run_backtest  # noqa: E402
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


def best_of(fn, repeat: int, number: int = 1) -> float:
    """Fastest mean time of `number` calls, over `repeat` tries (seconds)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


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
    t_ref = best_of(bt.run, args.repeat)
    t_ours = best_of(
        lambda: run_backtest(df, "sma_cross", {"fast": FAST, "slow": SLOW}, config=CONFIG),
        args.repeat,
        number=50,
    )
    run_ratio = t_ref / t_ours
    print(
        f"single run   backtesting.py {t_ref * 1e3:8.2f} ms   qunex {t_ours * 1e3:7.3f} ms   "
        f"x{run_ratio:6.1f}   trades {len(ours.trades)} vs {len(ref._trades)} "
        f"({'same bars' if same_trades else 'DIFFERENT'}), max equity diff ${equity_diff:.2e}"
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
    t_ref_sweep = best_of(reference_sweep, max(1, args.repeat // 3))
    t_ours_sweep = best_of(lambda: sweep(df, "sma_cross", GRID, config=CONFIG), args.repeat)
    sweep_ratio = t_ref_sweep / t_ours_sweep
    print(
        f"100-combo    backtesting.py {t_ref_sweep * 1e3:8.1f} ms   qunex {t_ours_sweep * 1e3:7.2f} ms"
        f"   x{sweep_ratio:6.1f}   max relative final-equity diff {sweep_diff:.1e}"
    )

    ok = run_ratio >= 50 and sweep_ratio >= 100 and same_trades and sweep_diff < 1e-4
    print(
        f"SUMMARY {name}: single run x{run_ratio:.0f} (goal 50), "
        f"sweep x{sweep_ratio:.0f} (goal 100), results {'equal' if ok or same_trades else 'DIFFER'}"
        f" -> {'PASS' if ok else 'BELOW GOAL'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
