"""Run one claimed backtest: load its bars, call the engine (or the sweep), shape the result.

No queue logic here; `backtests.queue` decides what to do with the outcome.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from backtests import engine, sweep
from backtests.bars import Bars, bars_fingerprint
from backtests.columns import columns_for
from backtests.models import Backtest
from backtests.selectors import bars_arrays
from backtests.strategies import InvalidParams, clean_params

# Work estimate for running a job in the request (`estimate_seconds`), about 5x what was
# measured on the 2-core development machine (GOOG, 2,148 bars: a full run with statistics
# and its JSON 1.4 ms; a sweep 0.06 ms per combination + 0.035 us per bar and combination;
# loading the bars from the database a few ms). With the default 1 s budget every single run
# and sweeps of several hundred combinations on ten years run in the request.
SECONDS_PER_JOB = 0.02  # query, fingerprint, store
SECONDS_PER_BAR_LOADED = 2e-6
SECONDS_PER_FULL_RUN_BAR = 3e-6  # one run with every statistic, trades and curves as JSON
SECONDS_PER_COMBINATION = 3e-4  # one sweep cell (summary statistics only) ...
SECONDS_PER_COMBINATION_BAR = 2e-7  # ... plus this per bar

SWEEP_METRIC = "Sharpe Ratio"  # what "best" means in a sweep and a walk-forward split
WALK_FORWARD_TOP = 10  # in-sample leaders traded out of sample


class JobInputError(Exception):
    """The job's inputs can't be run (bad parameters, unusable bars): retrying won't help."""


@dataclass(frozen=True)
class RunOutput:
    result: dict[str, Any]
    fingerprint: str
    engine_version: str


def _optional(value) -> float | None:
    return None if value is None else float(value)


def estimate_seconds(job: Backtest, n_bars: int) -> float:
    """Rough run time of `job` on `n_bars` bars; infinite for walk-forward (always queued).

    A sweep counts every combination of its grid (an upper bound: some may break the
    strategy's rules) plus the full run of the best one.
    """
    if job.walk_forward:
        return math.inf
    seconds = SECONDS_PER_JOB + n_bars * (SECONDS_PER_BAR_LOADED + SECONDS_PER_FULL_RUN_BAR)
    if job.sweep:
        combinations = math.prod(len(v) for v in job.sweep.values())
        seconds += combinations * (SECONDS_PER_COMBINATION + n_bars * SECONDS_PER_COMBINATION_BAR)
    return seconds


def job_config(job: Backtest) -> engine.Config:
    try:
        return engine.Config(
            cash=float(job.cash),
            commission=float(job.commission),
            commission_fixed=float(job.commission_fixed),
            spread=float(job.spread),
            allow_short=job.long_short,
            stop_loss=_optional(job.stop_loss),
            take_profit=_optional(job.take_profit),
            close_at_end=job.close_at_end,
        )
    except InvalidParams as exc:
        raise JobInputError(f"Invalid settings: {exc}") from exc


def job_bars(job: Backtest) -> tuple[Bars, bool]:
    dates, ohlcv, adjusted = bars_arrays(ticker_id=job.ticker_id, start=job.start, end=job.end)
    if len(dates) < 2:
        raise JobInputError(
            f"{job.ticker.symbol} has {len(dates)} daily bars between {job.start} and {job.end}; "
            "a backtest needs at least 2."
        )
    try:
        bars = Bars.from_arrays(dates, ohlcv)
    except ValueError as exc:
        raise JobInputError(f"Unusable bars: {exc}") from exc
    bars.extra.update(columns_for(strategy=job.strategy, ticker_id=job.ticker_id, index=bars.index))
    return bars, adjusted


def buy_hold_curve(bars: Bars, cash: float) -> list[float]:
    """Cash invested at the first close and held: the line the strategy is compared with
    (one vectorised pass; rounded to 4 places like the equity curve)."""
    close = bars.close
    return np.round(close * (cash / close[0]), 4).tolist()


def execute(job: Backtest) -> RunOutput:
    """1. Check params and settings (JobInputError when bad). 2. Load the bars.
    3. Run the engine, or the sweep (and walk-forward) plus a full run of the best
    parameters. 4. Return the JSON result with the bars' fingerprint."""
    config = job_config(job)
    try:
        # A sweep's fixed params are checked with each combination by the sweep itself.
        params = dict(job.params) if job.sweep else clean_params(job.strategy, job.params)
    except InvalidParams as exc:
        raise JobInputError(f"Invalid parameters: {exc}") from exc
    bars, adjusted = job_bars(job)
    if job.sweep:
        result = _sweep(job, bars, params, config)
    else:
        result = single_run(bars, job.strategy, params, config)
    result["bars"] = len(bars)
    result["adjusted"] = adjusted
    return RunOutput(
        result=result,
        fingerprint=bars_fingerprint(bars),
        engine_version=engine.ENGINE_VERSION,
    )


def single_run(
    bars: Bars, strategy: str, params: dict[str, Any], config: engine.Config
) -> dict[str, Any]:
    result = engine.run_backtest(bars, strategy, params, config=config).to_dict()
    result["kind"] = "single"
    result["series"]["buy_hold"] = buy_hold_curve(bars, config.cash)
    return result


def _sweep(
    job: Backtest, bars: Bars, fixed: dict[str, Any], config: engine.Config
) -> dict[str, Any]:
    try:
        if job.walk_forward:
            wf = sweep.walk_forward(
                bars,
                job.strategy,
                job.sweep,
                in_sample=float(job.walk_forward),
                metric=SWEEP_METRIC,
                top=WALK_FORWARD_TOP,
                fixed=fixed,
                config=config,
            )
            swept, best_params = wf.sweep, wf.best_params
        else:
            wf = None
            swept = sweep.sweep(bars, job.strategy, job.sweep, fixed=fixed, config=config)
            best = swept.best(SWEEP_METRIC)
            best_params = best["params"] if best else None
    except InvalidParams as exc:
        raise JobInputError(f"Invalid sweep: {exc}") from exc
    result: dict[str, Any] = {
        "kind": "sweep",
        "engine_version": engine.ENGINE_VERSION,
        "strategy": job.strategy,
        "metric": SWEEP_METRIC,
        "fixed": fixed,
        "config": config.to_dict(),
        **swept.to_dict(),
        "best_params": best_params,
        "best_run": single_run(bars, job.strategy, best_params, config) if best_params else None,
        "walk_forward": None,
    }
    if wf is not None:
        result["walk_forward"] = {k: v for k, v in wf.to_dict().items() if k != "sweep"}
    return result
