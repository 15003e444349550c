"""Parameter sweeps and the walk-forward split."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from backtests.engine import Bars, Config, run_backtest
from backtests.stats import SWEEP_KEYS
from backtests.strategies import InvalidParams, Param, Signal, register, unregister
from backtests.sweep import SweepResult, expand_grid, sweep, walk_forward
from tests.backtests import frame, synthetic_bars


@pytest.fixture(scope="module")
def bars() -> Bars:
    return Bars.from_frame(synthetic_bars(1500, seed=5))


@pytest.fixture
def above():
    """Long while the close is above `level`: simple enough to compute by hand."""

    @register("above", label="Above a level (tests)", params=(Param("level", float, 0, 100, 10),))
    def _above(bars, p, allow_short):
        target = (bars.close > p["level"]).astype(np.int8)
        target[:1] = 0
        return Signal(target=target, warmup=0)

    yield
    unregister("above")


def test_grid_skips_combinations_that_break_cross_field_rules():
    combos, skipped = expand_grid("sma_cross", {"fast": [5, 10, 20], "slow": [10, 20, 30]})
    assert [(c["fast"], c["slow"]) for c in combos] == [
        (5, 10),
        (5, 20),
        (5, 30),
        (10, 20),
        (10, 30),
        (20, 30),
    ]
    assert skipped == 3


def test_fixed_params_and_defaults_fill_the_rest():
    combos, _ = expand_grid("macd_cross", {"signal": [5, 9]}, {"fast": 8})
    assert combos == [
        {"fast": 8, "slow": 26, "signal": 5},
        {"fast": 8, "slow": 26, "signal": 9},
    ]


def test_fixed_params_are_checked_too():
    with pytest.raises(InvalidParams) as exc:
        expand_grid("sma_cross", {"fast": [5]}, {"slow": 1000, "colour": "red"})
    assert exc.value.errors == {
        "slow": "Must be between 3 and 500.",
        "colour": "Unknown parameter.",
    }


@pytest.mark.parametrize(
    ("grid", "errors"),
    [
        ({"speed": [1]}, {"speed": "Unknown parameter."}),
        ({"fast": []}, {"fast": "Must be a non-empty list of values."}),
        ({"fast": "5,10"}, {"fast": "Must be a non-empty list of values."}),
        ({"fast": [5, 1000]}, {"fast": "1000: Must be between 2 and 400."}),
        ({"fast": [5, "x"]}, {"fast": "'x': Must be a whole number."}),
        ({"fast": list(range(2, 102)), "slow": list(range(3, 203))}, {"grid": None}),
    ],
)
def test_grid_errors_name_the_field(grid, errors):
    with pytest.raises(InvalidParams) as exc:
        expand_grid("sma_cross", grid)
    assert set(exc.value.errors) == set(errors)
    for field, message in errors.items():
        if message:
            assert exc.value.errors[field] == message
    if "grid" in errors:
        assert exc.value.errors["grid"] == "20000 combinations; at most 10000 are allowed."


def test_every_row_equals_a_full_backtest_with_those_params(bars):
    config = Config(commission=0.001, spread=0.0005, allow_short=True)
    result = sweep(
        bars, "bollinger_reversion", {"period": [10, 20], "k": [1.5, 2.5]}, config=config
    )
    assert result.n_combinations == 4 and result.n_skipped == 0
    for row in result.rows:
        full = run_backtest(bars, "bollinger_reversion", row["params"], config=config).stats
        assert set(row["stats"]) == set(SWEEP_KEYS)
        for key in SWEEP_KEYS:
            assert row["stats"][key] == full[key], (row["params"], key)
        assert row["stats"]["# Trades"] > 5


@pytest.mark.parametrize(
    "config",
    [
        Config(commission=0.002),
        Config(commission=0.001, spread=0.0005, allow_short=True),
        Config(commission_fixed=3.0, close_at_end=True, allow_short=True),
        Config(commission=0.001, stop_loss=0.03, take_profit=0.05),  # brackets: full path
    ],
    ids=["long", "long-short-spread", "fixed-close-at-end", "brackets"],
)
def test_the_sweeps_summary_simulation_equals_the_full_one(bars, config):
    """A sweep skips building trade records; its equity and trade count stay exact."""
    from backtests.engine import simulate, simulate_summary
    from backtests.strategies import compute_signal

    for params in ({"fast": 5, "slow": 20}, {"fast": 12, "slow": 40}):
        signal = compute_signal(bars, "sma_cross", params, config.allow_short)
        full = simulate(bars, signal, config)
        equity, n_trades = simulate_summary(bars, signal, config)
        np.testing.assert_array_equal(equity, full.equity)
        assert n_trades == len(full.fills) > 0


def test_the_sweeps_summary_of_a_run_that_goes_broke_is_the_full_one():
    from backtests.engine import simulate, simulate_summary

    rows = [(10, 10, 10, 10)] * 3 + [(15, 16, 14, 15), (25, 26, 24, 25), (20, 21, 19, 20)]
    broke = Bars.from_frame(frame(rows))
    signal = Signal(target=np.array([0, -1, -1, -1, -1, -1], dtype=np.int8), warmup=0)
    config = Config(cash=1000, allow_short=True)
    full = simulate(broke, signal, config)
    equity, n_trades = simulate_summary(broke, signal, config)
    assert equity.tolist() == full.equity.tolist() == [1000, 1000, 1000, 505, 0, 0]
    assert n_trades == len(full.fills) == 1


def test_ranking_puts_undefined_values_last():
    rows = [
        {"params": {"n": 1}, "stats": {"Sharpe Ratio": math.nan}},
        {"params": {"n": 2}, "stats": {"Sharpe Ratio": 0.4}},
        {"params": {"n": 3}, "stats": {"Sharpe Ratio": 1.2}},
        {"params": {"n": 4}, "stats": {"Sharpe Ratio": -0.3}},
    ]
    result = SweepResult(strategy="x", grid={}, rows=rows, n_combinations=4)
    assert [r["params"]["n"] for r in result.ranked()] == [3, 2, 4, 1]
    assert result.best()["params"] == {"n": 3}
    with pytest.raises(InvalidParams) as exc:
        result.ranked("Alpha [%]")
    assert list(exc.value.errors) == ["metric"]


def test_sweep_output_is_json_and_a_frame(bars):
    result = sweep(bars, "sma_cross", {"fast": [5, 10], "slow": [20, 40]})
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["n_combinations"] == 4
    assert data["grid"] == {"fast": [5, 10], "slow": [20, 40]}
    assert data["rows"][0]["params"] == {"fast": 5, "slow": 20}
    table = result.to_frame()
    assert list(table.columns) == ["fast", "slow", *SWEEP_KEYS]
    assert len(table) == 4


def test_walk_forward_by_hand(above):
    df = frame([(c, c, c, c) for c in [10, 12, 14, 16, 18, 20, 18, 16, 20, 22]])
    result = walk_forward(
        df, "above", {"level": [11, 15]}, in_sample=0.5, metric="Return [%]",
        config=Config(cash=1000),
    )  # fmt: skip
    assert (result.in_sample_bars, result.out_of_sample_bars) == (5, 5)
    assert result.split_date == df.index[5]
    # In sample (bars 0-4): level 11 buys 71 at 14 on bar 2 -> 1000 + 71 * (18 - 14) = 1284;
    # level 15 buys 55 at 18 on bar 4 -> 1000.
    best, second = result.rows
    assert best["params"] == {"level": 11.0} and best["rank"] == 1
    assert best["in_sample"]["Equity Final [$]"] == pytest.approx(1284.0)
    assert second["in_sample"]["Return [%]"] == pytest.approx(0.0)
    # Out of sample (bars 5-9), indicators warmed on the whole history: long from bar 5,
    # filled at bar 6's open (18): 55 shares; closes 16, 20, 22 -> 890, 1110, 1220.
    oos = best["out_of_sample"]
    assert oos["Equity Final [$]"] == pytest.approx(1220.0)
    assert oos["Return [%]"] == pytest.approx(22.0)
    assert oos["Max. Drawdown [%]"] == pytest.approx(-11.0)
    assert oos["# Trades"] == 0  # still open at the end
    assert result.buy_hold == pytest.approx({"in_sample": 80.0, "out_of_sample": 10.0})
    assert result.best_params == {"level": 11.0}


def test_walk_forward_in_sample_ignores_the_out_of_sample_bars(bars):
    grid = {"fast": [5, 10, 20], "slow": [30, 50]}
    df = synthetic_bars(1500, seed=5)
    changed = df.copy()
    changed.iloc[1050:, :4] = changed.iloc[1050:, :4].to_numpy() * 1.5
    a = walk_forward(df, "sma_cross", grid, in_sample=0.7, top=3)
    b = walk_forward(changed, "sma_cross", grid, in_sample=0.7, top=3)
    assert a.split_date == df.index[1050]
    assert [r["params"] for r in a.rows] == [r["params"] for r in b.rows]
    assert [r["in_sample"] for r in a.rows] == [r["in_sample"] for r in b.rows]
    assert [r["out_of_sample"] for r in a.rows] != [r["out_of_sample"] for r in b.rows]
    assert len(a.rows) == 3 and a.sweep.n_combinations == 6
    data = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    assert data["rows"][0]["in_sample"]["Sharpe Ratio"] == a.rows[0]["in_sample"]["Sharpe Ratio"]
    assert data["split_date"].startswith(str(df.index[1050].date()))


@pytest.mark.parametrize("fraction", [0, 1, 1.5, 0.0001])
def test_walk_forward_rejects_a_useless_split(bars, fraction):
    with pytest.raises(InvalidParams) as exc:
        walk_forward(bars, "sma_cross", {"fast": [5]}, in_sample=fraction)
    assert list(exc.value.errors) == ["in_sample"]
