"""Strategy registry, parameter validation, indicators and the signals built on them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from backtests import indicators as ind
from backtests.engine import Bars, Config, run_backtest
from backtests.strategies import (
    InvalidParams,
    Param,
    Signal,
    clean_params,
    compute_signal,
    get_strategy,
    list_strategies,
    register,
    unregister,
    validate_params,
)
from tests.backtests import frame, synthetic_bars

BUILT_IN = {
    "buy_hold",
    "sma_cross",
    "sma_trend",
    "ema_cross",
    "rsi_reversion",
    "macd_cross",
    "bollinger_reversion",
    "donchian_breakout",
}


def closes(values: list[float]) -> Bars:
    return Bars.from_frame(frame([(v, v, v, v) for v in values]))


# --- registry -----------------------------------------------------------------------------


def test_every_built_in_strategy_declares_its_parameters():
    specs = {spec.name: spec for spec in list_strategies()}
    assert set(specs) >= BUILT_IN
    assert [p.name for p in specs["sma_cross"].params] == ["fast", "slow"]
    assert specs["sma_cross"].defaults() == {"fast": 10, "slow": 30}
    assert specs["macd_cross"].defaults() == {"fast": 12, "slow": 26, "signal": 9}
    assert specs["buy_hold"].params == ()
    for name in BUILT_IN:
        for p in specs[name].params:
            assert p.type in (int, float) and p.min <= p.default <= p.max and p.help


def test_spec_to_dict_is_what_forms_and_the_api_need():
    data = json.loads(json.dumps(get_strategy("rsi_reversion").to_dict()))
    assert data["label"] == "RSI mean reversion"
    assert data["params"][1] == {
        "name": "lower",
        "type": "float",
        "min": 1.0,
        "max": 50.0,
        "default": 30.0,
        "help": "Buy when RSI falls below this level.",
    }


def test_a_new_strategy_registers_with_the_decorator_and_runs():
    """How the AI-score strategy will plug in: declare params, return a Signal."""

    @register(
        "score_above",
        label="Score above a threshold",
        params=(Param("threshold", float, 0.0, 1.0, 0.5, "Long while the score is above."),),
    )
    def score_above(bars, p, allow_short):
        target = (bars.extra["score"] > p["threshold"]).astype(np.int8)
        target[:1] = 0
        return Signal(target=target, warmup=0)

    try:
        with pytest.raises(ValueError, match="already registered"):
            register("score_above", label="again")(score_above)
        df = frame([(10, 10, 10, 10)] * 3 + [(12, 12, 12, 12)] * 3)
        df["Score"] = [0.1, 0.9, 0.9, 0.9, 0.2, 0.2]
        assert validate_params("score_above", {"threshold": 2}).errors == {
            "threshold": "Must be between 0.0 and 1.0."
        }
        result = run_backtest(df, "score_above", {"threshold": 0.5}, config=Config(cash=100))
        (trade,) = result.trades
        assert (trade.entry_bar, trade.exit_bar, trade.size, trade.pnl) == (2, 5, 9, 18.0)
    finally:
        unregister("score_above")
    assert "score_above" not in {s.name for s in list_strategies()}


def test_a_strategy_returning_the_wrong_number_of_targets_is_an_error():
    register("short_signal", label="Broken")(
        lambda bars, p, allow_short: Signal(target=np.zeros(3, dtype=np.int8), warmup=0)
    )
    try:
        with pytest.raises(ValueError, match=r"returned \(3,\) targets for 6 bars"):
            compute_signal(closes([1, 2, 3, 4, 5, 6]), "short_signal", {}, allow_short=False)
    finally:
        unregister("short_signal")


def test_a_default_outside_its_range_is_refused_at_registration():
    with pytest.raises(ValueError, match="default"):
        register("bad", label="Bad", params=(Param("n", int, 1, 5, 9),))(lambda *a: None)


# --- validation ---------------------------------------------------------------------------


def test_missing_params_take_their_defaults():
    check = validate_params("sma_cross", {"fast": 5})
    assert check.ok and check.cleaned == {"fast": 5, "slow": 30}
    assert validate_params("bollinger_reversion", None).cleaned == {"period": 20, "k": 2.0}


def test_form_strings_and_json_floats_are_coerced_to_the_declared_type():
    check = validate_params("rsi_reversion", {"period": "21", "lower": "25", "upper": 80})
    assert check.cleaned == {"period": 21, "lower": 25.0, "upper": 80.0}
    assert isinstance(check.cleaned["period"], int)
    assert isinstance(check.cleaned["upper"], float)
    assert validate_params("sma_cross", {"fast": 12.0}).cleaned["fast"] == 12


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"fast": 10, "slow": 30, "speed": 3}, {"speed": "Unknown parameter."}),
        ({"fast": 1}, {"fast": "Must be between 2 and 400."}),
        ({"slow": 501}, {"slow": "Must be between 3 and 500."}),
        ({"fast": "ten"}, {"fast": "Must be a whole number."}),
        ({"fast": 10.5}, {"fast": "Must be a whole number."}),
        ({"fast": True}, {"fast": "Must be a whole number."}),
        ({"fast": [10]}, {"fast": "Must be a whole number."}),
        ({"fast": float("nan")}, {"fast": "Must be a finite number."}),
        ({"fast": 30, "slow": 30}, {"fast": "Must be smaller than slow (30)."}),
        ({"fast": 50, "slow": 20}, {"fast": "Must be smaller than slow (20)."}),
    ],
)
def test_sma_cross_errors_name_the_field(params, errors):
    check = validate_params("sma_cross", params)
    assert check.errors == errors
    assert check.cleaned == {}


def test_cross_field_rules_of_the_other_strategies():
    assert validate_params("rsi_reversion", {"lower": 45, "upper": 50}).ok
    assert validate_params("rsi_reversion", {"lower": 50, "upper": 50}).errors == {
        "lower": "Must be smaller than upper (50.0)."
    }
    assert validate_params("donchian_breakout", {"period": 10, "exit_period": 10}).ok
    assert validate_params("donchian_breakout", {"period": 10, "exit_period": 11}).errors == {
        "exit_period": "Must be at most period (10)."
    }
    assert validate_params("macd_cross", {"fast": 26, "slow": 26}).errors == {
        "fast": "Must be smaller than slow (26)."
    }
    assert validate_params("bollinger_reversion", {"k": "wide"}).errors == {
        "k": "Must be a number."
    }


def test_unknown_strategy_is_a_strategy_error():
    assert validate_params("moon_phase", {}).errors == {
        "strategy": "Unknown strategy 'moon_phase'."
    }
    with pytest.raises(InvalidParams) as exc:
        run_backtest(synthetic_bars(50), "moon_phase")
    assert exc.value.errors == {"strategy": "Unknown strategy 'moon_phase'."}


def test_clean_params_raises_with_every_field_error():
    with pytest.raises(InvalidParams) as exc:
        clean_params("rsi_reversion", {"period": 1, "upper": 200, "extra": 1})
    assert set(exc.value.errors) == {"period", "upper", "extra"}
    assert isinstance(exc.value, ValueError)


# --- indicators (hand-computed) -----------------------------------------------------------


def test_sma():
    out = ind.sma(np.array([1.0, 2, 3, 4, 5]), 3)
    np.testing.assert_allclose(out, [np.nan, np.nan, 2, 3, 4])
    assert np.isnan(ind.sma(np.array([1.0, 2]), 3)).all()


def test_ema_seeds_with_the_first_value_and_masks_the_warm_up():
    # alpha = 2 / (3 + 1) = 0.5: 1, 1.5, 2.25, 3.125
    out = ind.ema(np.array([1.0, 2, 3, 4]), 3)
    np.testing.assert_allclose(out, [np.nan, np.nan, 2.25, 3.125])
    x = synthetic_bars(300)["Close"]
    expected = x.ewm(span=20, adjust=False).mean().to_numpy()
    np.testing.assert_allclose(ind.ema(x.to_numpy(), 20)[19:], expected[19:], rtol=1e-12)


def test_rsi_uses_wilder_smoothing():
    # changes +1 +1 -1 +1; alpha 1/2: gain 1, 1, .5, .75; loss 0, 0, .5, .25
    out = ind.rsi(np.array([1.0, 2, 3, 2, 3]), 2)
    np.testing.assert_allclose(out, [np.nan, np.nan, 100, 50, 75])
    assert ind.rsi(np.full(5, 7.0), 2)[-1] == 50.0  # no movement at all


def test_macd_line_and_signal():
    x = np.arange(1.0, 41.0)
    line, signal = ind.macd(x, 3, 5, 4)
    np.testing.assert_allclose(line[4:], (ind.ema(x, 3) - ind.ema(x, 5))[4:])
    assert np.isnan(line[3]) and not np.isnan(line[4])
    assert np.isnan(signal[6]) and not np.isnan(signal[7])  # 5 + 4 - 2
    assert signal[7] == pytest.approx(
        pd.Series(line[4:]).ewm(span=4, adjust=False).mean().iloc[3], rel=1e-12
    )


def test_bollinger_uses_population_deviation():
    lower, mid, upper = ind.bollinger(np.array([1.0, 2, 3, 4, 6]), 3, 2.0)
    np.testing.assert_allclose(mid, [np.nan, np.nan, 2, 3, 13 / 3])
    sd = np.sqrt(2 / 3)
    assert upper[2] == pytest.approx(2 + 2 * sd) and lower[2] == pytest.approx(2 - 2 * sd)


def test_donchian_channels_exclude_the_current_bar():
    x = np.array([1.0, 3, 2, 5, 4])
    np.testing.assert_allclose(ind.prior_max(x, 2), [np.nan, np.nan, 3, 3, 5])
    np.testing.assert_allclose(ind.prior_min(x, 2), [np.nan, np.nan, 1, 2, 2])


# --- signals ------------------------------------------------------------------------------


def test_sma_cross_acts_only_on_crossings():
    bars = closes([5, 4, 3, 4, 5, 6, 5, 3, 2, 1])
    # SMA(2) vs SMA(3) from bar 2: 3.5 < 4, 3.5 < 3.67 (bar 3: still below, no crossing),
    # 4.5 > 4 (bar 4: crosses above), 5.5 > 5, 5.5 > 5.33, 4 < 4.67 (bar 7: crosses below).
    signal = compute_signal(bars, "sma_cross", {"fast": 2, "slow": 3}, allow_short=False)
    assert signal.warmup == 2 and signal.first_bar == 3
    assert signal.target.tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0]
    both = compute_signal(bars, "sma_cross", {"fast": 2, "slow": 3}, allow_short=True)
    # Long/short starts flat too (the old rule went short on bar 3 without a crossing).
    assert both.target.tolist() == [0, 0, 0, 0, 1, 1, 1, -1, -1, -1]
    trend = compute_signal(bars, "sma_trend", {"fast": 2, "slow": 3}, allow_short=True)
    assert trend.target.tolist() == [0, 0, 0, -1, 1, 1, 1, -1, -1, -1]


def test_no_crossing_no_trade_although_fast_is_above_slow():
    bars = closes([1, 2, 3, 4, 5, 6, 7, 8])  # SMA(2) > SMA(3) on every bar after the warm-up
    for name in ("sma_cross", "ema_cross"):
        signal = compute_signal(bars, name, {"fast": 2, "slow": 3}, allow_short=True)
        assert not signal.target.any(), name
        assert run_backtest(bars, name, {"fast": 2, "slow": 3}).trades == []
    trend = compute_signal(bars, "sma_trend", {"fast": 2, "slow": 3}, allow_short=False)
    assert trend.target.tolist() == [0, 0, 0, 1, 1, 1, 1, 1]


def test_crossings_are_strict_on_both_bars_as_backtesting_lib_crossover():
    from backtests.strategies import crossings

    nan = np.nan
    fast = np.array([nan, 1.0, 2.0, 2.0, 3.0, 1.0, 3.0, 1.0])
    slow = np.array([nan, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    up, down = crossings(fast, slow, first_bar=1)
    # Touching (2 == 2) is not crossing: bar 2 and bar 4 (from a tie) do not count; bar 6 does.
    assert up.nonzero()[0].tolist() == [6]
    assert down.nonzero()[0].tolist() == [5, 7]
    up, down = crossings(fast, slow, first_bar=6)
    assert up.nonzero()[0].tolist() == [6] and down.nonzero()[0].tolist() == [7]


def test_macd_cross_trades_on_signal_line_crossings():
    bars = Bars.from_frame(synthetic_bars(400))
    p = {"fast": 12, "slow": 26, "signal": 9}
    line = ind.ema(bars.close, 12) - ind.ema(bars.close, 26)
    sig = ind.ema(line, 9)
    target = compute_signal(bars, "macd_cross", p, allow_short=True).target
    changes = (np.diff(target.astype(int)) != 0).nonzero()[0] + 1
    for t in changes:  # every change of position is a crossing on that bar
        assert np.sign(line[t - 1] - sig[t - 1]) == -np.sign(line[t] - sig[t]) != 0
        assert target[t] == np.sign(line[t] - sig[t])


def test_rsi_reversion_holds_until_the_opposite_level():
    bars = closes([10, 9, 8, 7, 8, 9, 10, 11, 12, 11, 10])
    rsi = ind.rsi(bars.close, 2)
    signal = compute_signal(
        bars, "rsi_reversion", {"period": 2, "lower": 30, "upper": 70}, allow_short=True
    )
    # From bar 3: RSI 0 (< 30) -> long; stays long until RSI > 70 at bar 5 -> short;
    # short until RSI < 30 again (bar 10: RSI 12.5 after two falls).
    assert rsi[3] == 0 and rsi[5] > 70 and rsi[9] > 30 and rsi[10] < 30
    assert signal.target.tolist() == [0, 0, 0, 1, 1, -1, -1, -1, -1, -1, 1]
    long_only = compute_signal(
        bars, "rsi_reversion", {"period": 2, "lower": 30, "upper": 70}, allow_short=False
    )
    assert long_only.target.tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1]


def test_bollinger_reversion_exits_at_the_middle_band():
    values = [10, 10, 10, 10, 10, 7, 8, 9, 11, 14, 12, 11, 10]
    bars = closes(values)
    lower, mid, upper = ind.bollinger(bars.close, 5, 1.0)
    signal = compute_signal(bars, "bollinger_reversion", {"period": 5, "k": 1.0}, True)
    assert values[5] < lower[5] and values[7] >= mid[7]  # long at 5 (7 < 8.2), out at 7 (9 >= 8.8)
    assert values[8] > upper[8] and values[11] <= mid[11]  # short at 8, out at 11
    assert values[12] < lower[12]  # long again
    assert signal.target.tolist() == [0, 0, 0, 0, 0, 1, 1, 0, -1, -1, -1, 0, 1]


def test_donchian_breakout_enters_on_a_new_high_and_exits_on_a_shorter_low():
    values = [10, 11, 10, 11, 12, 13, 12, 11, 12, 9, 8]
    bars = closes(values)
    signal = compute_signal(bars, "donchian_breakout", {"period": 3, "exit_period": 2}, False)
    # Bar 4: 12 > max(11, 10, 11) -> long; bar 7: 11 < min(13, 12) -> out.
    assert signal.warmup == 3
    assert signal.target.tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    both = compute_signal(bars, "donchian_breakout", {"period": 3, "exit_period": 2}, True)
    # Bar 7 is also below the 3-bar low min(12, 13, 12) -> short, and no close after it
    # rises above the prior 2-bar high.
    assert both.target.tolist() == [0, 0, 0, 0, 1, 1, 1, -1, -1, -1, -1]


def test_buy_and_hold_goes_long_from_bar_one():
    signal = compute_signal(closes([1, 2, 3, 4]), "buy_hold", {}, allow_short=True)
    assert signal.target.tolist() == [0, 1, 1, 1] and signal.warmup == 0


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_signals_never_look_ahead(name):
    df = synthetic_bars(500, seed=11)
    k = 320
    changed = df.copy()
    changed.iloc[k + 1 :, :4] = changed.iloc[k + 1 :, :4].to_numpy()[::-1]
    params = get_strategy(name).defaults()
    for allow_short in (False, True):
        a = compute_signal(Bars.from_frame(df), name, params, allow_short).target
        b = compute_signal(Bars.from_frame(changed), name, params, allow_short).target
        assert a[: k + 1].tolist() == b[: k + 1].tolist()


def test_indicators_are_computed_once_per_bars():
    bars = Bars.from_frame(synthetic_bars(300))
    compute_signal(bars, "sma_cross", {"fast": 10, "slow": 30}, False)
    first = bars.memo(("sma", 10), lambda: pytest.fail("recomputed"))
    compute_signal(bars, "sma_cross", {"fast": 10, "slow": 40}, False)
    assert bars.memo(("sma", 10), lambda: None) is first
    assert ("sma", 40) in bars._memo
