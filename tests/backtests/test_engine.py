"""The engine on tiny hand-computed series, plus no-look-ahead, brackets, shorts and output.

The `scripted` strategy trades a `Target` column of the bars, so each case spells out the
decisions bar by bar. Cash is 1,000; decisions start at bar 1 (warm-up 0 + 1) and fill at
the next bar's open.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from backtests.bars import Bars, bars_fingerprint
from backtests.engine import ENGINE_VERSION, Config, InvalidParams, run_backtest
from backtests.strategies import Signal, list_strategies, register, unregister
from tests.backtests import frame, synthetic_bars

# bar:      0               1               2               3               4               5               6
ROWS = [
    (10, 10, 10, 10),
    (10, 11, 9, 10),
    (30, 31, 29, 30),
    (31, 33, 30, 32),
    (32, 33, 31, 33),
    (34, 35, 33, 35),
    (35, 36, 34, 36),
]


@pytest.fixture(autouse=True)
def scripted():
    @register("scripted", label="Scripted targets (tests)")
    def _scripted(bars, p, allow_short):
        return Signal(target=bars.extra["target"].astype(np.int8), warmup=0)

    yield
    unregister("scripted")


def bars_with(targets: list[int], rows=ROWS) -> pd.DataFrame:
    df = frame(rows)
    df["Target"] = targets
    return df


def run(targets: list[int], rows=ROWS, **config):
    return run_backtest(bars_with(targets, rows), "scripted", config=Config(cash=1000, **config))


def test_long_trade_without_costs():
    result = run([0, 1, 1, 1, 0, 0, 0])
    (trade,) = result.trades
    # Buy decided at bar 1's close, filled at bar 2's open (30): floor(0.9999.. * 1000 / 30) = 33.
    assert (trade.entry_bar, trade.entry_price, trade.size) == (2, 30.0, 33)
    # Sell decided at bar 4, filled at bar 5's open (34): 33 * 4 = 132.
    assert (trade.exit_bar, trade.exit_price) == (5, 34.0)
    assert trade.pnl == pytest.approx(132.0)
    assert trade.return_pct == pytest.approx((34 / 30 - 1) * 100)
    assert trade.duration == pd.Timedelta(days=5)  # Wed 3rd -> Mon 8th
    assert trade.exit_reason == "signal"
    # Equity marks the 33 shares to each close: 1000 + 33 * (close - 30).
    assert result.equity.tolist() == pytest.approx([1000, 1000, 1000, 1066, 1099, 1132, 1132])
    assert result.stats["Equity Final [$]"] == pytest.approx(1132.0)
    assert result.stats["Return [%]"] == pytest.approx(13.2)
    assert result.stats["# Trades"] == 1
    assert result.stats["Exposure Time [%]"] == pytest.approx(4 / 7 * 100)  # bars 2..5
    assert result.stats["Commissions [$]"] == 0.0
    assert result.stats["Max. Drawdown [%]"] == 0.0
    assert result.stats["Buy & Hold Return [%]"] == pytest.approx(260.0)  # 10 -> 36
    assert result.open_trade is None


def test_whole_shares_leave_a_share_when_cash_divides_exactly():
    """Orders are sized at 0.9999... of equity (backtesting.py's default), so 1000 / 20
    buys 49 shares, not 50."""
    rows = [*ROWS]
    rows[2] = (20, 21, 19, 20)
    result = run([0, 1, 1, 1, 0, 0, 0], rows=rows)
    assert result.trades[0].size == 49


def test_relative_and_fixed_commission_on_entry_and_exit():
    result = run([0, 1, 1, 1, 0, 0, 0], commission=0.01, commission_fixed=1.0)
    (trade,) = result.trades
    # Size: floor(1000 / (30 + 1 + 30 * 1 %)) = floor(31.95) = 31 shares.
    assert trade.size == 31
    # Entry commission 1 + 31 * 30 * 1 % = 10.30; exit 1 + 31 * 34 * 1 % = 11.54.
    assert trade.commission == pytest.approx(21.84)
    assert trade.pnl == pytest.approx(31 * 4 - 21.84)  # 102.16
    assert trade.return_pct == pytest.approx((34 / 30 - 1 - 21.84 / (31 * 30)) * 100)
    # Cash after entry 989.70; equity = cash + 31 * (close - 30).
    expected = [1000, 1000, 989.7, 1051.7, 1082.7, 1102.16, 1102.16]
    assert result.equity.tolist() == pytest.approx(expected)
    assert result.stats["Commissions [$]"] == pytest.approx(21.84)
    assert result.stats["Max. Drawdown [%]"] == pytest.approx(-1.03)  # 989.70 vs 1000
    assert result.drawdown.iloc[2] == pytest.approx(0.0103)


def test_spread_is_paid_once_on_entry():
    result = run([0, 1, 1, 1, 0, 0, 0], spread=0.01)
    (trade,) = result.trades
    assert trade.entry_price == pytest.approx(30.3)  # 30 * (1 + 1 %)
    assert trade.size == 33  # floor(1000 / 30.3)
    assert trade.exit_price == 34.0  # exits fill at the raw open
    assert trade.pnl == pytest.approx(33 * (34 - 30.3))  # 122.10
    assert result.equity.iloc[2] == pytest.approx(1000 + 33 * (30 - 30.3))  # 990.10


def test_short_trade_loses_when_price_rises():
    result = run([0, -1, -1, -1, 0, 0, 0], allow_short=True, spread=0.01)
    (trade,) = result.trades
    assert trade.size == -33  # floor(1000 / (30 * 0.99)) = 33 (33.67)
    assert trade.entry_price == pytest.approx(29.7)
    assert trade.pnl == pytest.approx(-33 * (34 - 29.7))  # -141.90
    assert trade.return_pct == pytest.approx(-(34 / 29.7 - 1) * 100)
    assert result.equity.iloc[3] == pytest.approx(1000 - 33 * (32 - 29.7))


def test_long_only_ignores_short_targets():
    result = run([0, -1, -1, 1, 1, 0, 0])
    (trade,) = result.trades
    assert (trade.entry_bar, trade.exit_bar, trade.size) == (4, 6, 31)  # 1000 / 32 -> 31


def test_reversal_closes_then_opens_at_the_same_open():
    result = run([0, 1, 1, -1, -1, -1, -1], allow_short=True)
    (long,) = result.trades
    assert (long.entry_bar, long.exit_bar, long.size) == (2, 4, 33)
    assert long.pnl == pytest.approx(33 * (32 - 30))  # 66
    # The short opens at bar 4's open with the cash left: floor(1066 / 32) = 33.
    short = result.open_trade
    assert (short.entry_bar, short.size, short.exit_reason) == (4, -33, "open")
    assert short.exit_price == 36.0  # marked to the last close
    assert short.duration == pd.Timedelta(days=4)
    assert result.equity.iloc[-1] == pytest.approx(1066 - 33 * (36 - 32))  # 934
    # The open trade is in equity but not in trade statistics (reference convention).
    assert result.stats["# Trades"] == 1
    assert result.stats["Equity Final [$]"] == pytest.approx(934.0)


def test_decision_on_the_last_bar_is_never_filled():
    result = run([0, 0, 0, 0, 0, 0, 1])
    assert result.trades == [] and result.open_trade is None
    assert result.equity.tolist() == [1000.0] * 7
    assert math.isnan(result.stats["Win Rate [%]"])
    assert result.stats["Max. Trade Duration"] is pd.NaT


def test_target_at_bar_zero_is_ignored():
    """Decisions start at bar warm-up + 1 (backtesting.py needs two bars for `next()`)."""
    result = run([1, 1, 1, 1, 1, 1, 1])
    assert result.open_trade.entry_bar == 2


def stop_rows(bar3: tuple[float, float, float, float]) -> list[tuple]:
    rows = [*ROWS]
    rows[3] = bar3
    return rows


@pytest.mark.parametrize(
    ("bar3", "reason", "price"),
    [
        ((31, 33, 28, 32), "stop_loss", 28.5),  # low crosses 30 * 0.95
        ((27, 33, 26, 32), "stop_loss", 27.0),  # gap below the stop fills at the open
        ((31, 34, 30, 32), "take_profit", 33.0),  # high crosses 30 * 1.10
        ((34, 35, 30, 32), "take_profit", 34.0),  # gap above the target fills at the open
        ((31, 34, 28, 32), "stop_loss", 28.5),  # both touched: the stop is assumed first
    ],
)
def test_stop_loss_and_take_profit(bar3, reason, price):
    result = run([0, 1, 1, 1, 1, 1, 1], rows=stop_rows(bar3), stop_loss=0.05, take_profit=0.10)
    (trade,) = result.trades
    assert (trade.exit_bar, trade.exit_reason, trade.exit_price) == (3, reason, price)
    assert trade.stop_loss == pytest.approx(28.5)
    assert trade.take_profit == pytest.approx(33.0)
    assert trade.pnl == pytest.approx(33 * (price - 30))
    # Flat after the exit although the target stays long: no re-entry until it changes.
    assert result.open_trade is None
    assert result.equity.iloc[-1] == pytest.approx(1000 + 33 * (price - 30))


def test_stop_can_hit_on_the_entry_bar():
    rows = [*ROWS]
    rows[2] = (30, 31, 28, 29)
    result = run([0, 1, 1, 1, 1, 1, 1], rows=rows, stop_loss=0.05)
    (trade,) = result.trades
    assert (trade.entry_bar, trade.exit_bar, trade.exit_price) == (2, 2, 28.5)


def test_short_stop_loss_is_above_the_entry():
    rows = stop_rows((31, 32, 30, 31))  # high 32 > 30 * 1.05 = 31.5
    result = run([0, -1, -1, -1, -1, -1, -1], rows=rows, allow_short=True, stop_loss=0.05)
    (trade,) = result.trades
    assert (trade.exit_bar, trade.exit_reason) == (3, "stop_loss")
    assert trade.exit_price == pytest.approx(31.5)
    assert trade.pnl == pytest.approx(-33 * 1.5)


def test_signal_exit_at_the_open_comes_before_a_stop_in_the_same_bar():
    rows = stop_rows((31, 33, 28, 32))
    result = run([0, 1, 0, 0, 0, 0, 0], rows=rows, stop_loss=0.05)
    (trade,) = result.trades
    assert (trade.exit_bar, trade.exit_reason, trade.exit_price) == (3, "signal", 31.0)


def test_equity_that_reaches_zero_closes_the_position_and_stays_at_zero():
    rows = [
        (10, 10, 10, 10),
        (10, 10, 10, 10),
        (10, 10, 10, 10),
        (15, 16, 14, 15),
        (25, 26, 24, 25),
    ]
    rows += [(20, 21, 19, 20), (10, 11, 9, 10)]
    result = run([0, -1, -1, -1, -1, -1, -1], rows=rows, allow_short=True)
    (trade,) = result.trades
    # Short 99 at 10; at bar 4's close equity = 1000 - 99 * 15 < 0: closed at that close.
    assert (trade.size, trade.exit_bar, trade.exit_price, trade.exit_reason) == (
        -99,
        4,
        25.0,
        "broke",
    )
    assert result.equity.tolist() == pytest.approx([1000, 1000, 1000, 505, 0, 0, 0])


def test_changing_future_bars_cannot_change_earlier_decisions_or_equity():
    """No look-ahead, for every built-in strategy in both modes: scramble all bars after k
    and nothing up to bar k may move (equity, trades closed by then, target)."""
    base = synthetic_bars(600, seed=3)
    k = 400
    scrambled = base.copy()
    rng = np.random.default_rng(1)
    factor = np.exp(rng.normal(0, 0.05, len(base) - k - 1))
    scrambled.iloc[k + 1 :, :4] = scrambled.iloc[k + 1 :, :4].to_numpy() * factor[:, None]
    config_cases = [Config(), Config(allow_short=True, stop_loss=0.03, take_profit=0.06)]
    compared = moved = 0
    for spec in list_strategies():
        if spec.name == "scripted":
            continue
        for config in config_cases:
            a = run_backtest(base, spec.name, config=config)
            b = run_backtest(scrambled, spec.name, config=config)
            assert a.equity.iloc[: k + 1].tolist() == b.equity.iloc[: k + 1].tolist(), spec.name
            moved += a.equity.iloc[-1] != b.equity.iloc[-1]  # the future did change
            done_a = [t.to_dict() for t in a.trades if t.exit_bar <= k]
            done_b = [t.to_dict() for t in b.trades if t.exit_bar <= k]
            assert done_a == done_b, spec.name
            compared += len(done_a)
    assert compared > 50 and moved > 10


@pytest.mark.parametrize("allow_short", [False, True])
def test_fills_without_brackets_match_the_bracket_loop_to_the_bit(allow_short):
    """Without stop-loss/take-profit the engine fills orders column-wise; with a stop so far
    away that it never triggers the bracket-checking loop runs instead. Both must agree
    exactly: same trades, same equity, float for float."""
    bars = synthetic_bars(1500, seed=11)
    costs = {"commission": 0.001, "commission_fixed": 2.0, "spread": 0.0005}
    plain = Config(allow_short=allow_short, **costs)
    bracketed = Config(allow_short=allow_short, stop_loss=0.99, **costs)
    trades = 0
    for spec in list_strategies():
        if spec.name == "scripted":
            continue
        a = run_backtest(bars, spec.name, config=plain)
        b = run_backtest(bars, spec.name, config=bracketed)
        assert {t.exit_reason for t in b.trades} <= {"signal"}, spec.name  # never triggered
        assert a.equity.tolist() == b.equity.tolist(), spec.name
        unbracketed = [t._replace(stop_loss=None) for t in b.trades]
        assert a.trades == unbracketed, spec.name
        if a.open_trade:
            assert a.open_trade == b.open_trade._replace(stop_loss=None), spec.name
        assert a.stats.keys() == b.stats.keys()
        for key, value in a.stats.items():
            assert value == b.stats[key] or (value != value and b.stats[key] != b.stats[key])
        trades += len(a.trades)
    assert trades > 100


def test_to_dict_is_json_and_carries_everything_a_job_stores():
    result = run([0, 1, 1, -1, -1, 0, 0], allow_short=True, commission=0.001)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["engine_version"] == ENGINE_VERSION == "2.0"
    assert data["strategy"] == "scripted"
    assert data["config"]["commission"] == 0.001 and data["config"]["allow_short"] is True
    assert data["series"]["dates"][0] == "2024-01-01T00:00:00"
    assert len(data["series"]["equity"]) == len(data["series"]["drawdown"]) == 7
    assert data["stats"]["Duration"] == 8.0  # days, Mon 1st -> Tue 9th
    assert data["stats"]["Start"] == "2024-01-01T00:00:00"
    assert data["stats"]["# Trades"] == 2
    first = data["trades"][0]
    assert first["side"] == "long" and first["entry_bar"] == 2 and first["exit_bar"] == 4
    assert first["duration_days"] == 2.0
    assert data["trades"][1]["side"] == "short"
    assert data["open_trade"] is None


def test_undefined_statistics_serialise_as_null():
    data = run([0] * 7).to_dict()
    assert data["stats"]["Sharpe Ratio"] is None
    assert data["stats"]["Avg. Trade Duration"] is None
    assert data["trades"] == []


def test_bars_fingerprint_is_stable_and_sensitive():
    df = frame(ROWS)
    fp = bars_fingerprint(df)
    assert fp == "ef6ff50cb89385c39c62bccaf307622827d5907052f9e27f1706aea3a87fa5d9"
    assert bars_fingerprint(Bars.from_frame(df)) == fp
    lower = df.rename(columns=str.lower)[["close", "open", "high", "low", "volume"]]
    assert bars_fingerprint(lower) == fp  # column order and case do not matter
    changed = df.copy()
    changed.iloc[3, 3] += 0.01
    assert bars_fingerprint(changed) != fp
    shifted = df.copy()
    shifted.index = shifted.index + pd.Timedelta(days=1)
    assert bars_fingerprint(shifted) != fp


def test_bars_are_validated():
    with pytest.raises(ValueError, match="close"):
        Bars.from_frame(frame(ROWS).drop(columns="Close"))
    broken = frame(ROWS)
    broken.iloc[2, 0] = np.nan
    with pytest.raises(ValueError, match="missing"):
        Bars.from_frame(broken)
    with pytest.raises(ValueError, match="increasing"):
        Bars.from_frame(frame(ROWS).iloc[::-1])
    dated = frame(ROWS).reset_index(names="date")
    assert len(Bars.from_frame(dated)) == 7


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cash", 0),
        ("commission", 0.2),
        ("commission_fixed", -1),
        ("spread", -0.1),
        ("stop_loss", 0),
        ("take_profit", 1.5),
    ],
)
def test_config_errors_name_the_field(field, value):
    with pytest.raises(InvalidParams) as exc:
        Config(**{field: value})
    assert list(exc.value.errors) == [field]
