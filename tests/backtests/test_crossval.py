"""Qunex's engine against the reference engine, backtesting.py 0.6.6 (a development-only
dependency), on the same bars, strategy, costs and conventions.

The reference strategies below are written the backtesting.py way: indicators from pandas
(rolling/ewm, independent of backtests/indicators.py) and the trading rule evaluated bar by
bar in `next()`. They trade with the settings Qunex's defaults mirror:

    Backtest(bars, Strategy, cash=10_000, commission=..., spread=..., margin=1,
             trade_on_close=False, hedging=False, exclusive_orders=True,
             finalize_trades=False)

and orders of the default size (0.9999 of equity, whole shares). We require the same trades
(entry/exit bars, sizes, prices), final equity within 0.01 %, and, in practice, every
statistic to 1e-9. Deliberate differences are asserted where they show:

- "Commissions [$]": the reference leaves the key out when it is zero; Qunex reports 0.0.
- A trade still open at the end: both leave it out of trades and statistics and mark it to
  the last close in equity; Qunex also returns it as `open_trade`.
- Stop-loss/take-profit: Qunex takes them as fractions of the fill price. The reference only
  takes absolute prices when the order is placed, so the reference strategy computes them
  from the NEXT bar's open (known to the test, not to a real strategy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtests.engine import Config, run_backtest
from backtests.stats import STAT_KEYS
from backtests.sweep import sweep
from tests.backtests import goog_bars, synthetic_bars

backtesting = pytest.importorskip("backtesting")
Backtest, Strategy = backtesting.Backtest, backtesting.Strategy
crossover = pytest.importorskip("backtesting.lib").crossover

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore:.*deprecated:Warning:backtesting"),  # reference on pandas 3
]


@pytest.fixture(autouse=True)
def _quiet_reference(monkeypatch):
    """No progress bars from the reference engine."""
    monkeypatch.setattr(backtesting.backtesting, "_tqdm", lambda seq, **_: seq)


# --- reference indicators (pandas) --------------------------------------------------------


def _s(x) -> pd.Series:
    return pd.Series(np.asarray(x, dtype=float))


def ref_sma(x, n):
    return _s(x).rolling(n).mean().to_numpy()


def ref_ema(x, n):
    out = _s(x).ewm(span=n, adjust=False).mean()
    out.iloc[: n - 1] = np.nan
    return out.to_numpy()


def ref_rsi(x, n):
    delta = _s(x).diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
    loss = (-delta).clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
    rsi = 100 - 100 / (1 + gain / loss)
    rsi[loss == 0] = 100.0
    rsi[(loss == 0) & (gain == 0)] = 50.0
    rsi.iloc[:n] = np.nan
    return rsi.to_numpy()


def ref_macd(x, fast, slow, signal):
    s = _s(x)
    line = s.ewm(span=fast, adjust=False).mean() - s.ewm(span=slow, adjust=False).mean()
    line.iloc[: slow - 1] = np.nan
    sig = line.ewm(span=signal, adjust=False).mean()
    sig.iloc[: slow + signal - 2] = np.nan
    return line.to_numpy(), sig.to_numpy()


def ref_bands(x, n, k):
    s = _s(x)
    mid, sd = s.rolling(n).mean(), s.rolling(n).std(ddof=0)
    return (mid - k * sd).to_numpy(), mid.to_numpy(), (mid + k * sd).to_numpy()


def ref_prior_max(x, n):
    return _s(x).rolling(n).max().shift(1).to_numpy()


def ref_prior_min(x, n):
    return _s(x).rolling(n).min().shift(1).to_numpy()


# --- reference strategies -----------------------------------------------------------------


class Reference(Strategy):
    """Trades a wanted position (+1/0/-1) that subclasses decide from the latest bar."""

    allow_short = False
    spread = 0.0
    stop_loss = None
    take_profit = None

    def init(self):
        self.state = 0
        self.next_open = np.asarray(self.data.Open, dtype=float)  # full length inside init()
        self.setup()

    def setup(self):
        pass

    def next(self):
        wanted = self.wanted()
        if not self.allow_short:
            wanted = max(wanted, 0)
        if wanted == self.state:
            return
        self.state = wanted
        if wanted == 0:
            self.position.close()
            return
        order = self.buy if wanted > 0 else self.sell
        order(**self.brackets(wanted))

    def brackets(self, side: int) -> dict:
        i = len(self.data) - 1
        if i + 1 >= len(self.next_open) or not (self.stop_loss or self.take_profit):
            return {}
        fill = self.next_open[i + 1] * (1 + side * self.spread)  # peeks: see module docstring
        out = {}
        if self.stop_loss:
            out["sl"] = fill * (1 - self.stop_loss) if side > 0 else fill * (1 + self.stop_loss)
        if self.take_profit:
            out["tp"] = fill * (1 + self.take_profit) if side > 0 else fill * (1 - self.take_profit)
        return out

    def wanted(self) -> int:
        raise NotImplementedError


class RefBuyHold(Reference):
    def wanted(self):
        return 1


class RefSmaTrend(Reference):
    """The state rule kept as `sma_trend`: long while fast > slow."""

    fast, slow = 10, 30

    def setup(self):
        self.f = self.I(ref_sma, self.data.Close, self.fast)
        self.s = self.I(ref_sma, self.data.Close, self.slow)

    def wanted(self):
        return 1 if self.f[-1] > self.s[-1] else -1


class RefSmaCross(RefSmaTrend):
    """Crossings only, with backtesting.lib.crossover."""

    def wanted(self):
        if crossover(self.f, self.s):
            return 1
        if crossover(self.s, self.f):
            return -1
        return self.state


class RefEmaCross(RefSmaCross):
    fast, slow = 12, 26

    def setup(self):
        self.f = self.I(ref_ema, self.data.Close, self.fast)
        self.s = self.I(ref_ema, self.data.Close, self.slow)


class RefMacdCross(RefSmaCross):
    fast, slow, signal = 12, 26, 9

    def setup(self):
        line, sig = ref_macd(self.data.Close, self.fast, self.slow, self.signal)
        self.f = self.I(lambda: line, name="macd")
        self.s = self.I(lambda: sig, name="signal")


class RefRsiReversion(Reference):
    period, lower, upper = 14, 30.0, 70.0

    def setup(self):
        self.rsi = self.I(ref_rsi, self.data.Close, self.period)

    def wanted(self):
        if self.rsi[-1] < self.lower:
            return 1
        if self.rsi[-1] > self.upper:
            return -1 if self.allow_short else 0
        return self.state


class RefBollingerReversion(Reference):
    period, k = 20, 2.0

    def setup(self):
        lower, mid, upper = ref_bands(self.data.Close, self.period, self.k)
        self.lower = self.I(lambda: lower, name="lower")
        self.mid = self.I(lambda: mid, name="mid")
        self.upper = self.I(lambda: upper, name="upper")

    def wanted(self):
        close, state = self.data.Close[-1], self.state
        if (state == 1 and close >= self.mid[-1]) or (state == -1 and close <= self.mid[-1]):
            state = 0
        if close < self.lower[-1]:
            return 1
        if self.allow_short and close > self.upper[-1]:
            return -1
        return state


class RefDonchianBreakout(Reference):
    period, exit_period = 20, 10

    def setup(self):
        high, low = self.data.High, self.data.Low
        self.hi_n = self.I(ref_prior_max, high, self.period)
        self.lo_n = self.I(ref_prior_min, low, self.period)
        self.hi_m = self.I(ref_prior_max, high, self.exit_period)
        self.lo_m = self.I(ref_prior_min, low, self.exit_period)

    def wanted(self):
        close, state = self.data.Close[-1], self.state
        if (state == 1 and close < self.lo_m[-1]) or (state == -1 and close > self.hi_m[-1]):
            state = 0
        if close > self.hi_n[-1]:
            return 1
        if self.allow_short and close < self.lo_n[-1]:
            return -1
        return state


CASES = {
    "buy_hold": (RefBuyHold, {}),
    "sma_cross": (RefSmaCross, {"fast": 10, "slow": 30}),
    "sma_trend": (RefSmaTrend, {"fast": 10, "slow": 30}),
    "ema_cross": (RefEmaCross, {"fast": 12, "slow": 26}),
    "macd_cross": (RefMacdCross, {"fast": 12, "slow": 26, "signal": 9}),
    "rsi_reversion": (RefRsiReversion, {"period": 14, "lower": 30.0, "upper": 70.0}),
    "bollinger_reversion": (RefBollingerReversion, {"period": 20, "k": 2.0}),
    "donchian_breakout": (RefDonchianBreakout, {"period": 20, "exit_period": 10}),
}

COSTS = {
    "free": {},
    "relative": {"commission": 0.002},
    "fixed": {"commission_fixed": 5.0},
    "spread": {"spread": 0.001},
    "all": {"commission": 0.001, "commission_fixed": 2.0, "spread": 0.0005},
}


def run_reference(bars: pd.DataFrame, strategy: str, config: Config) -> pd.Series:
    cls, params = CASES[strategy]
    bt = Backtest(
        bars,
        cls,
        cash=config.cash,
        commission=(config.commission_fixed, config.commission),
        spread=config.spread,
        margin=1.0,
        trade_on_close=False,
        hedging=False,
        exclusive_orders=True,
        finalize_trades=config.close_at_end,
    )
    return bt.run(
        allow_short=config.allow_short,
        spread=config.spread,
        stop_loss=config.stop_loss,
        take_profit=config.take_profit,
        **params,
    )


def assert_matches(bars: pd.DataFrame, strategy: str, config: Config) -> None:
    ref = run_reference(bars, strategy, config)
    ours = run_backtest(bars, strategy, CASES[strategy][1], config=config)
    rt = ref._trades

    assert len(ours.trades) == len(rt)
    still_open = ref._strategy.trades
    assert len(rt) + len(still_open) > 0
    if still_open:
        (open_ref,) = still_open
        assert ours.open_trade is not None
        assert ours.open_trade.entry_bar == open_ref.entry_bar
        assert ours.open_trade.size == open_ref.size
        assert ours.open_trade.entry_price == pytest.approx(open_ref.entry_price, rel=1e-12)
    else:
        assert ours.open_trade is None
    assert [t.entry_bar for t in ours.trades] == rt["EntryBar"].tolist()
    assert [t.exit_bar for t in ours.trades] == rt["ExitBar"].tolist()
    assert [t.size for t in ours.trades] == rt["Size"].tolist()
    np.testing.assert_allclose([t.entry_price for t in ours.trades], rt["EntryPrice"], rtol=1e-12)
    np.testing.assert_allclose([t.exit_price for t in ours.trades], rt["ExitPrice"], rtol=1e-12)
    np.testing.assert_allclose([t.pnl for t in ours.trades], rt["PnL"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        [t.return_pct for t in ours.trades], rt["ReturnPct"] * 100, rtol=1e-9, atol=1e-12
    )
    # The acceptance bar: final equity within 0.01 %; the curves agree far closer than that.
    assert ours.stats["Equity Final [$]"] == pytest.approx(ref["Equity Final [$]"], rel=1e-4)
    np.testing.assert_allclose(ours.equity.to_numpy(), ref._equity_curve["Equity"], rtol=1e-12)
    np.testing.assert_allclose(
        ours.drawdown.to_numpy(), ref._equity_curve["DrawdownPct"], rtol=1e-9, atol=1e-12
    )
    for key in STAT_KEYS:
        expected = ref.get(key, 0.0)  # deliberate: reference omits a zero "Commissions [$]"
        got = ours.stats[key]
        if pd.isna(expected):  # NaN or NaT: "not defined" (no trades, no drawdown, ...)
            assert pd.isna(got), key
        elif isinstance(expected, pd.Timestamp | pd.Timedelta):
            assert got == expected, key
        else:
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-9, nan_ok=True), key


@pytest.mark.parametrize("strategy", list(CASES))
@pytest.mark.parametrize("costs", list(COSTS))
@pytest.mark.parametrize("allow_short", [False, True], ids=["long", "long_short"])
def test_synthetic_bars_match_reference(strategy, costs, allow_short):
    config = Config(allow_short=allow_short, **COSTS[costs])
    assert_matches(synthetic_bars(), strategy, config)


@pytest.mark.parametrize("strategy", list(CASES))
@pytest.mark.parametrize("costs", ["relative", "fixed", "spread"])
@pytest.mark.parametrize("allow_short", [False, True], ids=["long", "long_short"])
def test_goog_bars_match_reference(strategy, costs, allow_short):
    config = Config(allow_short=allow_short, **COSTS[costs])
    assert_matches(goog_bars(), strategy, config)


@pytest.mark.parametrize("strategy", ["sma_cross", "bollinger_reversion", "donchian_breakout"])
@pytest.mark.parametrize("allow_short", [False, True], ids=["long", "long_short"])
def test_stop_loss_and_take_profit_match_reference(strategy, allow_short):
    config = Config(
        allow_short=allow_short, commission=0.001, spread=0.0005, stop_loss=0.05, take_profit=0.08
    )
    bars = synthetic_bars()
    ours = run_backtest(bars, strategy, CASES[strategy][1], config=config)
    reasons = {t.exit_reason for t in ours.trades}
    assert {"stop_loss", "take_profit", "signal"} <= reasons  # every exit path is exercised
    assert_matches(bars, strategy, config)


def test_warmup_and_buy_and_hold_base_match_reference():
    """Buy & Hold Return starts at the first bar where every indicator is defined."""
    bars = synthetic_bars()
    ours = run_backtest(bars, "macd_cross", {"fast": 12, "slow": 26, "signal": 9})
    assert ours.warmup == 26 + 9 - 2
    close = bars["Close"].to_numpy()
    expected = (close[-1] - close[33]) / close[33] * 100
    assert ours.stats["Buy & Hold Return [%]"] == pytest.approx(expected, rel=1e-12)
    ref = run_reference(bars, "macd_cross", Config())
    assert ref["Buy & Hold Return [%]"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "dd",
    [
        [0, 0.1, 0.2, 0, 0, 0.05],  # a one-bar dip at the very end is not a drawdown
        [0, 0.1, 0, 0.3, 0.1, 0.2],  # an unfinished drawdown runs to the last bar
        [0, 0.1, 0.05, 0, 0.2, 0],
    ],
)
def test_drawdown_periods_match_reference(dd):
    from backtesting._stats import compute_drawdown_duration_peaks

    from backtests.stats import drawdown_periods

    index = pd.bdate_range("2024-01-01", periods=len(dd))
    ref_durations, ref_peaks = compute_drawdown_duration_peaks(pd.Series(dd, index=index))
    durations, peaks = drawdown_periods(np.array(dd, dtype=float), index.as_unit("ns").asi8)
    assert peaks.tolist() == ref_peaks.dropna().tolist()
    assert durations.tolist() == [d.value for d in ref_durations.dropna()]


# --- the canonical crossover strategies, as backtesting.py's documentation writes them -----
#
# No `exclusive_orders`: the strategy closes the position itself before a new order, and
# a long-only one only closes on the opposite crossing. Data: backtesting.test.GOOG.


class CanonicalCross(Strategy):
    fast, slow, signal = 10, 30, 9
    kind = "sma"
    allow_short = False

    def init(self):
        close = self.data.Close
        if self.kind == "macd":
            line, sig = ref_macd(close, self.fast, self.slow, self.signal)
            self.a = self.I(lambda: line, name="macd")
            self.b = self.I(lambda: sig, name="signal")
        else:
            average = ref_sma if self.kind == "sma" else ref_ema
            self.a = self.I(average, close, self.fast)
            self.b = self.I(average, close, self.slow)

    def next(self):
        if crossover(self.a, self.b):
            self.position.close()
            self.buy()
        elif crossover(self.b, self.a):
            self.position.close()
            if self.allow_short:
                self.sell()


SCENARIOS = {
    # name: (params per kind, bars slice, cash, commission (fixed, relative))
    "full_history": ({"sma": (10, 30), "ema": (12, 26), "macd": (12, 26, 9)}, slice(None), 10_000, (0, 0.002)),
    "2006_2009": ({"sma": (5, 20), "ema": (8, 21), "macd": (8, 17, 9)}, slice("2006-01-01", "2009-12-31"), 25_000, (0, 0.001)),
    "2010_on": ({"sma": (20, 50), "ema": (20, 50), "macd": (12, 26, 5)}, slice("2010-01-01", None), 3_333.33, (1.5, 0.0005)),
    "first_year": ({"sma": (3, 8), "ema": (5, 13), "macd": (5, 13, 4)}, slice(None, "2005-08-31"), 1_000_000, (0, 0)),
}  # fmt: skip


@pytest.mark.parametrize("kind", ["sma", "ema", "macd"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("allow_short", [False, True], ids=["long", "long_short"])
@pytest.mark.parametrize("close_at_end", [False, True], ids=["leave_open", "close_at_end"])
def test_canonical_crossover_strategies_match(kind, scenario, allow_short, close_at_end):
    by_kind, window, cash, (fixed, rate) = SCENARIOS[scenario]
    bars = goog_bars().loc[window]
    values = by_kind[kind]
    names = ("fast", "slow", "signal")[: len(values)]
    params = dict(zip(names, values, strict=True))
    ref = Backtest(
        bars, CanonicalCross, cash=cash, commission=(fixed, rate), finalize_trades=close_at_end
    ).run(kind=kind, allow_short=allow_short, **params)
    config = Config(
        cash=cash,
        commission=rate,
        commission_fixed=fixed,
        allow_short=allow_short,
        close_at_end=close_at_end,
    )
    ours = run_backtest(bars, f"{kind}_cross", params, config=config)

    rt = ref._trades
    assert len(rt) >= 3, "the scenario should trade"
    assert [t.entry_bar for t in ours.trades] == rt["EntryBar"].tolist()
    assert [t.exit_bar for t in ours.trades] == rt["ExitBar"].tolist()
    assert [t.size for t in ours.trades] == rt["Size"].tolist()
    np.testing.assert_allclose([t.entry_price for t in ours.trades], rt["EntryPrice"], rtol=1e-12)
    np.testing.assert_allclose([t.exit_price for t in ours.trades], rt["ExitPrice"], rtol=1e-12)
    still_open = ref._strategy.trades
    if close_at_end:
        assert not still_open and ours.open_trade is None
    if still_open:
        assert ours.open_trade is not None
        assert (ours.open_trade.entry_bar, ours.open_trade.size) == (
            still_open[0].entry_bar,
            still_open[0].size,
        )
    else:
        assert ours.open_trade is None
    assert ours.stats["Equity Final [$]"] == pytest.approx(ref["Equity Final [$]"], rel=1e-4)
    np.testing.assert_allclose(ours.equity.to_numpy(), ref._equity_curve["Equity"], rtol=1e-9)
    assert ours.stats["# Trades"] == ref["# Trades"]
    assert ours.stats["Return [%]"] == pytest.approx(ref["Return [%]"], rel=1e-9)
    assert ours.stats["Win Rate [%]"] == pytest.approx(ref["Win Rate [%]"], rel=1e-9, nan_ok=True)


def test_close_at_end_closes_at_the_last_open_and_counts_the_trade():
    bars = goog_bars()
    params = {"fast": 10, "slow": 30}
    kept = run_backtest(bars, "sma_cross", params, config=Config(allow_short=True))
    closed = run_backtest(
        bars, "sma_cross", params, config=Config(allow_short=True, close_at_end=True)
    )
    assert kept.open_trade is not None and closed.open_trade is None
    last = closed.trades[-1]
    assert (last.entry_bar, last.exit_bar, last.exit_reason) == (
        kept.open_trade.entry_bar,
        len(bars) - 1,
        "end",
    )
    assert last.exit_price == bars["Open"].iloc[-1]
    assert closed.stats["# Trades"] == kept.stats["# Trades"] + 1


@pytest.mark.parametrize("allow_short", [False, True], ids=["long", "long_short"])
def test_sweep_matches_optimize_heatmaps(allow_short):
    """Every cell of backtesting.py's `optimize(..., return_heatmap=True)` on the same grid."""
    bars = goog_bars()
    grid = {"fast": [5, 10, 15, 20], "slow": [20, 30, 45]}
    bt = Backtest(bars, CanonicalCross, cash=10_000, commission=0.002)
    config = Config(commission=0.002, allow_short=allow_short)
    ours = sweep(bars, "sma_cross", grid, config=config)
    assert ours.n_combinations == 11 and ours.n_skipped == 1  # 20/20 breaks fast < slow
    by_params = {(r["params"]["fast"], r["params"]["slow"]): r["stats"] for r in ours.rows}
    for metric in ("Return [%]", "Sharpe Ratio", "Max. Drawdown [%]", "Equity Final [$]"):
        _, heatmap = bt.optimize(
            **grid,
            kind="sma",
            allow_short=allow_short,
            constraint=lambda p: p.fast < p.slow,
            maximize=metric,
            return_heatmap=True,
        )
        assert len(heatmap) == len(by_params)
        for key, value in heatmap.items():
            cell = dict(zip(heatmap.index.names, key, strict=True))
            fast, slow = cell["fast"], cell["slow"]
            got = by_params[(fast, slow)][metric]
            assert got == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), (
                metric,
                fast,
                slow,
            )
