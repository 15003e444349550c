"""Parameter sweeps and a walk-forward split over the engine. Pure functions, no Django.

A sweep evaluates every combination of a grid on the same `Bars`: indicators are memoised
on the bars, so SMA(20) is computed once however many combinations use it, and each
combination costs one vectorised signal, one fill loop over its trades and a handful of
statistics (the same definitions as `run_backtest`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from backtests.engine import Bars, Config, as_bars, json_value, simulate_summary
from backtests.stats import SWEEP_KEYS, calendar, sweep_stats
from backtests.strategies import (
    InvalidParams,
    Signal,
    coerce_value,
    compute_signal,
    get_strategy,
    validate_params,
)

MAX_COMBINATIONS = 10_000


@dataclass
class SweepResult:
    strategy: str
    grid: dict[str, list[Any]]
    rows: list[dict[str, Any]]  # {"params": {...}, "stats": {key: value for SWEEP_KEYS}}
    n_combinations: int  # evaluated
    n_skipped: int = 0  # rejected by a cross-field rule (e.g. fast >= slow)

    def ranked(self, metric: str = "Sharpe Ratio") -> list[dict[str, Any]]:
        """Rows best first by `metric` (higher is better); undefined values last."""
        _check_metric(metric)

        def key(row: dict[str, Any]) -> float:
            value = row["stats"][metric]
            return -math.inf if value is None or math.isnan(value) else value

        return sorted(self.rows, key=key, reverse=True)

    def best(self, metric: str = "Sharpe Ratio") -> dict[str, Any] | None:
        ranked = self.ranked(metric)
        return ranked[0] if ranked else None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{**row["params"], **row["stats"]} for row in self.rows])

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "grid": self.grid,
            "n_combinations": self.n_combinations,
            "n_skipped": self.n_skipped,
            "rows": [_json_row(row) for row in self.rows],
        }


@dataclass
class WalkForwardResult:
    strategy: str
    metric: str
    in_sample_fraction: float
    split_date: pd.Timestamp  # first out-of-sample bar
    in_sample_bars: int
    out_of_sample_bars: int
    sweep: SweepResult  # the in-sample sweep
    rows: list[dict[str, Any]] = field(default_factory=list)  # rank, params, in/out of sample
    buy_hold: dict[str, float] = field(default_factory=dict)  # return [%] of each window

    @property
    def best_params(self) -> dict[str, Any] | None:
        return self.rows[0]["params"] if self.rows else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "metric": self.metric,
            "in_sample_fraction": self.in_sample_fraction,
            "split_date": self.split_date.isoformat(),
            "in_sample_bars": self.in_sample_bars,
            "out_of_sample_bars": self.out_of_sample_bars,
            "buy_hold": {k: json_value(v) for k, v in self.buy_hold.items()},
            "rows": [
                {
                    "rank": row["rank"],
                    "params": row["params"],
                    "in_sample": {k: json_value(v) for k, v in row["in_sample"].items()},
                    "out_of_sample": {k: json_value(v) for k, v in row["out_of_sample"].items()},
                }
                for row in self.rows
            ],
            "sweep": self.sweep.to_dict(),
        }


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"params": row["params"], "stats": {k: json_value(v) for k, v in row["stats"].items()}}


def _check_metric(metric: str) -> None:
    if metric not in SWEEP_KEYS:
        raise InvalidParams({"metric": f"Must be one of: {', '.join(SWEEP_KEYS)}."})


def expand_grid(
    strategy: str,
    grid: Mapping[str, Sequence[Any]],
    fixed: Mapping[str, Any] | None = None,
    *,
    max_combinations: int = MAX_COMBINATIONS,
) -> tuple[list[dict[str, Any]], int]:
    """Every combination of `grid` over `fixed`, cleaned: (combinations, number skipped).

    1. Each grid and fixed key must be a parameter of the strategy, each list non-empty, and
       each value valid on its own; otherwise `InvalidParams` names the field.
    2. The product may not exceed `max_combinations`.
    3. Combinations that break a cross-field rule (fast >= slow) are skipped and counted.
    """
    spec = get_strategy(strategy)
    declared = {p.name: p for p in spec.params}
    fixed = dict(fixed or {})
    errors: dict[str, str] = {}
    for name, value in fixed.items():
        if name not in declared:
            errors[name] = "Unknown parameter."
        elif name not in grid and (error := coerce_value(declared[name], value)[1]):
            errors[name] = error
    for name, values in grid.items():
        if name not in declared:
            errors[name] = "Unknown parameter."
        elif isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
            errors[name] = "Must be a non-empty list of values."
        else:
            for value in values:
                _, error = coerce_value(declared[name], value)
                if error:
                    errors[name] = f"{value!r}: {error}"
                    break
    if errors:
        raise InvalidParams(errors)
    names = list(grid)
    total = math.prod(len(grid[name]) for name in names)
    if total > max_combinations:
        raise InvalidParams(
            {"grid": f"{total} combinations; at most {max_combinations} are allowed."}
        )
    combos, skipped = [], 0
    for values in itertools.product(*(grid[name] for name in names)):
        check = validate_params(strategy, {**fixed, **dict(zip(names, values, strict=True))})
        if check.ok:
            combos.append(check.cleaned)
        else:
            skipped += 1
    return combos, skipped


def sweep(
    data: pd.DataFrame | Bars,
    strategy: str,
    grid: Mapping[str, Sequence[Any]],
    *,
    fixed: Mapping[str, Any] | None = None,
    config: Config | None = None,
    max_combinations: int = MAX_COMBINATIONS,
) -> SweepResult:
    """Run `strategy` for every combination of `grid` (other params from `fixed` or defaults)
    and report Return, Sharpe, Max. Drawdown, # Trades and Equity Final for each."""
    config = config or Config()
    bars = as_bars(data)
    combos, skipped = expand_grid(strategy, grid, fixed, max_combinations=max_combinations)
    cal = calendar(bars)
    rows = []
    for params in combos:
        signal = compute_signal(bars, strategy, params, config.allow_short)
        equity, n_trades = simulate_summary(bars, signal, config)
        rows.append(
            {"params": params, "stats": sweep_stats(equity=equity, cal=cal, n_trades=n_trades)}
        )
    return SweepResult(
        strategy=strategy,
        grid={k: list(v) for k, v in grid.items()},
        rows=rows,
        n_combinations=len(rows),
        n_skipped=skipped,
    )


def evaluate_window(
    bars: Bars, strategy: str, params: Mapping[str, Any], config: Config, start: int
) -> dict[str, float]:
    """Sweep statistics for trading only bars[start:], with indicators warmed up on the
    whole history (they only look back, so nothing from after a bar leaks into it)."""
    full = compute_signal(bars, strategy, params, config.allow_short)
    tail = bars.memo(("tail", start), lambda: bars.tail(start))
    window = Signal(target=full.target[start:], warmup=max(full.warmup - start, -1))
    equity, n_trades = simulate_summary(tail, window, config)
    return sweep_stats(equity=equity, cal=calendar(tail), n_trades=n_trades)


def walk_forward(
    data: pd.DataFrame | Bars,
    strategy: str,
    grid: Mapping[str, Sequence[Any]],
    *,
    in_sample: float = 0.7,
    metric: str = "Sharpe Ratio",
    top: int = 5,
    fixed: Mapping[str, Any] | None = None,
    config: Config | None = None,
    max_combinations: int = MAX_COMBINATIONS,
) -> WalkForwardResult:
    """Sweep the first `in_sample` fraction of the bars, then trade the `top` in-sample
    parameter sets on the rest, and report both windows side by side (best first)."""
    _check_metric(metric)
    config = config or Config()
    bars = as_bars(data)
    if not 0 < in_sample < 1:
        raise InvalidParams({"in_sample": "Must be above 0 and below 1."})
    split = round(len(bars) * in_sample)
    if min(split, len(bars) - split) < 2:
        raise InvalidParams({"in_sample": "Leaves fewer than 2 bars on one side of the split."})
    head = bars.head(split)
    result = sweep(
        head, strategy, grid, fixed=fixed, config=config, max_combinations=max_combinations
    )
    rows = [
        {
            "rank": rank,
            "params": row["params"],
            "in_sample": row["stats"],
            "out_of_sample": evaluate_window(bars, strategy, row["params"], config, split),
        }
        for rank, row in enumerate(result.ranked(metric)[: max(top, 1)], start=1)
    ]
    close = bars.close
    return WalkForwardResult(
        strategy=strategy,
        metric=metric,
        in_sample_fraction=in_sample,
        split_date=bars.index[split],
        in_sample_bars=split,
        out_of_sample_bars=len(bars) - split,
        sweep=result,
        rows=rows,
        buy_hold={
            "in_sample": float((close[split - 1] / close[0] - 1) * 100),
            "out_of_sample": float((close[-1] / close[split] - 1) * 100),
        },
    )
