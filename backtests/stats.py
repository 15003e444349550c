"""Backtest statistics with backtesting.py 0.6.6's definitions (`backtesting/_stats.py`).

Same keys, same formulas, computed with numpy instead of pandas so that a sweep can afford
them. Every formula is written out in docs/backtest-statistics.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from backtests.bars import Bars

NS_PER_DAY = 86_400 * 10**9

STAT_KEYS = (
    "Start",
    "End",
    "Duration",
    "Exposure Time [%]",
    "Equity Final [$]",
    "Equity Peak [$]",
    "Commissions [$]",
    "Return [%]",
    "Buy & Hold Return [%]",
    "Return (Ann.) [%]",
    "Volatility (Ann.) [%]",
    "CAGR [%]",
    "Sharpe Ratio",
    "Sortino Ratio",
    "Calmar Ratio",
    "Alpha [%]",
    "Beta",
    "Max. Drawdown [%]",
    "Avg. Drawdown [%]",
    "Max. Drawdown Duration",
    "Avg. Drawdown Duration",
    "# Trades",
    "Win Rate [%]",
    "Best Trade [%]",
    "Worst Trade [%]",
    "Avg. Trade [%]",
    "Max. Trade Duration",
    "Avg. Trade Duration",
    "Profit Factor",
    "Expectancy [%]",
    "SQN",
    "Kelly Criterion",
)
SWEEP_KEYS = ("Return [%]", "Sharpe Ratio", "Max. Drawdown [%]", "# Trades", "Equity Final [$]")


@dataclass(frozen=True)
class Calendar:
    """How equity is sampled for annualised figures, derived once per bar series.

    `period_ends` are the bars that `equity.resample(freq).last().dropna()` keeps;
    `annual_periods` is 252 for business-daily data (365 with weekends, 52 weekly, ...).
    """

    period_ends: np.ndarray
    annual_periods: float
    resolution_ns: int  # reported durations are rounded up to this unit (the data's)

    @property
    def every_bar(self) -> bool:
        """Each bar is its own period (daily bars): sample equity as it is."""
        return len(self.period_ends) == self.period_ends[-1] + 1


@dataclass(frozen=True)
class TradeTable:
    """Closed trades as parallel arrays, in time order."""

    entry_bar: np.ndarray  # int
    exit_bar: np.ndarray  # int
    pnl: np.ndarray
    returns: np.ndarray  # fraction, net of commissions
    commissions: np.ndarray

    def __len__(self) -> int:
        return len(self.pnl)


def calendar(bars: Bars) -> Calendar:
    return bars.memo(("calendar",), lambda: _calendar(bars.index, bars.ns))


_UNITS_NS = (NS_PER_DAY, 3600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3, 1)


def _calendar(index: pd.DatetimeIndex, ns: np.ndarray) -> Calendar:
    """backtesting.py's choices, from the median spacing of the last 100 bars:
    weekly -> 52 periods a year, monthly -> 12, yearly -> 1, otherwise daily sampling with
    252 periods (365 when weekends hold more than 60 % of their 2/7 share of the bars)."""
    if index.tz is not None:  # calendar days are local days
        ns = index.tz_localize(None).as_unit("ns").asi8
    last = ns[-100:]
    gaps = np.sort(last[1:] - last[:-1])
    mid = len(gaps) // 2
    period_ns = int(gaps[mid]) if len(gaps) % 2 else int((gaps[mid - 1] + gaps[mid]) // 2)
    freq_days = period_ns // NS_PER_DAY
    days = ns // NS_PER_DAY
    weekend_days = len(days) - np.count_nonzero(np.is_busday(days.view("datetime64[D]")))
    have_weekends = weekend_days / len(days) > 2 / 7 * 0.6
    annual = {7: 52, 31: 12, 365: 1}.get(freq_days, 365 if have_weekends else 252)
    freq = {7: "W", 31: "ME", 365: "YE"}.get(freq_days, "D")
    midnights = period_ns >= NS_PER_DAY and (days * NS_PER_DAY == ns).all()  # no `%`: slower
    if freq == "D" and midnights:
        ends = np.arange(len(days))  # midnight stamps of distinct days: one bar per day
    elif freq == "D":
        ends = np.append(np.flatnonzero(days[1:] != days[:-1]), len(days) - 1)
    else:
        positions = pd.Series(np.arange(len(index)), index=index).resample(freq).last()
        ends = positions.dropna().to_numpy().astype(np.int64)
    # Timedelta.resolution_string: the largest unit that divides the spacing.
    resolution = next((u for u in _UNITS_NS if period_ns % u == 0), 1) if period_ns else NS_PER_DAY
    return Calendar(ends, float(annual), resolution)


def geometric_mean(returns: np.ndarray) -> float:
    """exp(mean(log(1 + r))) - 1, or 0 if any r <= -1 (returns here never hold NaN)."""
    growth = returns + 1
    if np.any(growth <= 0):
        return 0.0
    return float(np.exp(np.log(growth).sum() / (len(growth) or np.nan)) - 1)


def period_returns(
    equity: np.ndarray, cal: Calendar, growth: np.ndarray | None = None
) -> np.ndarray:
    """Returns from one period's last equity to the next. `growth` may pass
    `equity[1:] / equity[:-1]` when the caller has it and equity stays positive."""
    if growth is not None and cal.every_bar:
        return growth - 1
    sampled = equity if cal.every_bar else equity[cal.period_ends]
    if sampled.min() > 0:
        return sampled[1:] / sampled[:-1] - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = sampled[1:] / sampled[:-1] - 1
    return returns[~np.isnan(returns)]  # 0 / 0 -> NaN, dropped like pandas' dropna()


def annualised(
    equity: np.ndarray, cal: Calendar, growth: np.ndarray | None = None
) -> tuple[float, float, np.ndarray]:
    """(annual return, annual volatility, period returns), both as fractions.

    The geometric mean of the period returns telescopes to (last / first) ** (1 / count)
    when equity stays positive, which saves a log per period.
    """
    returns = period_returns(equity, cal, growth)
    count = len(returns)
    first = float(equity[0] if cal.every_bar else equity[cal.period_ends[0]])
    last = float(equity[-1] if cal.every_bar else equity[cal.period_ends[-1]])
    if count and first > 0 and last > 0 and count == len(cal.period_ends) - 1:
        gmean = (last / first) ** (1 / count) - 1  # nothing dropped, nothing <= -100 %
    else:
        gmean = geometric_mean(returns)
    periods = cal.annual_periods
    if count > 1:
        deviations = returns - returns.sum() / count  # = returns.mean(), without its overhead
        var = float(deviations @ deviations) / (count - 1)
    else:
        var = math.nan
    ann_return = (1 + gmean) ** periods - 1
    vol = math.sqrt((var + (1 + gmean) ** 2) ** periods - (1 + gmean) ** (2 * periods))
    return ann_return, vol, returns


def drawdown(equity: np.ndarray) -> np.ndarray:
    """Fraction below the running peak: 0 at a new high, 0.25 when 25 % under it."""
    return 1 - equity / np.maximum.accumulate(equity)


def drawdown_periods(dd: np.ndarray, ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(durations in ns, peak depths) of each drawdown, as backtesting.py delimits them.

    1. Candidate ends are the bars at a peak (dd == 0) plus the last bar.
    2. A drawdown runs between consecutive candidates at least two bars apart.
    3. Its duration is the time between them, its depth the largest dd in between.
    """
    candidates = dd == 0
    candidates[-1] = True
    ends = candidates.nonzero()[0]
    prev, cur = ends[:-1], ends[1:]
    keep = cur > prev + 1
    prev, cur = prev[keep], cur[keep]
    if not len(cur):
        return np.array([], dtype=np.int64), np.array([])
    # Outside drawdowns dd is 0, so the max from one start to the next is that drawdown's
    # depth; only a trailing one-bar dip (not a drawdown by step 2) could leak into the last.
    peaks = np.maximum.reduceat(dd, prev)
    if cur[-1] < len(dd) - 1:
        peaks[-1] = dd[prev[-1] : cur[-1] + 1].max()
    return ns[cur] - ns[prev], peaks


def _ceil(total_ns: int, count: int, resolution_ns: int) -> pd.Timedelta | Any:
    """total / count rounded up to the data's resolution (backtesting.py's `_round_timedelta`),
    in integers so whole days stay whole."""
    if not count:
        return pd.NaT
    return _timedelta(-(-int(total_ns) // (count * resolution_ns)) * resolution_ns)


@lru_cache(maxsize=4096)
def _timedelta(ns: int) -> pd.Timedelta:
    return pd.Timedelta(ns, unit="ns")  # a few microseconds each: worth remembering


def _market_log_deviations(close: np.ndarray) -> tuple[np.ndarray, float]:
    market = np.log(close[1:] / close[:-1])
    deviations = market - market.sum() / len(market)
    return deviations, float(deviations @ deviations)


def _beta(equity: np.ndarray, bars: Bars, growth: np.ndarray | None) -> float:
    """cov(equity log returns, market log returns) / var(market log returns), bar by bar.

    The market's deviations from their mean sum to zero, so the equity side needs no
    centring: sum((e - mean(e)) * d) = sum(e * d). `growth` is `equity[1:] / equity[:-1]`
    when equity stays positive, else None.
    """
    if len(equity) < 3:
        return np.nan
    market, market_ss = bars.memo(("market_log",), lambda: _market_log_deviations(bars.close))
    if growth is not None:
        return float(np.log(growth) @ market / market_ss)
    with np.errstate(divide="ignore", invalid="ignore"):  # equity hit 0: inf/nan like np.cov
        own = np.log(equity[1:] / equity[:-1])
        return float((own - own.sum() / len(own)) @ market / market_ss)


def _div(a: float, b: float) -> float:
    """a / b with numpy's float semantics: +-inf or NaN instead of ZeroDivisionError."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _nan_to_zero(x: float) -> float:
    return 0.0 if math.isnan(x) else x


def _exposure(trades: TradeTable, n_bars: int) -> float:
    """Share of bars between a trade's entry and exit bar (inclusive) of any trade."""
    if not len(trades):
        return 0.0
    reached = np.maximum.accumulate(trades.exit_bar)  # last bar covered so far
    starts = trades.entry_bar.copy()
    starts[1:] = np.maximum(starts[1:], reached[:-1] + 1)  # count no bar twice
    return int(np.maximum(trades.exit_bar - starts + 1, 0).sum()) / n_bars


def compute_stats(
    *,
    equity: np.ndarray,
    bars: Bars,
    trades: TradeTable,
    warmup: int,
    drawdown_: np.ndarray | None = None,
) -> dict[str, Any]:
    """The statistics backtesting.py's `compute_stats` reports (risk-free rate 0).
    `drawdown_` may pass `drawdown(equity)` when the caller already has it."""
    index, close, ns = bars.index, bars.close, bars.ns
    cal = calendar(bars)
    first, last = float(equity[0]), float(equity[-1])
    # Bar-to-bar growth, shared by the period returns and Beta (None once equity hits 0).
    growth = equity[1:] / equity[:-1] if equity.min() > 0 else None
    s: dict[str, Any] = {}
    if index.tz is None:  # boxing from the int64 ns is cheaper than indexing the index
        s["Start"], s["End"] = pd.Timestamp(int(ns[0])), pd.Timestamp(int(ns[-1]))
    else:
        s["Start"], s["End"] = index[0], index[-1]
    duration = s["Duration"] = _timedelta(int(ns[-1] - ns[0]))  # = End - Start, even with a tz
    s["Exposure Time [%]"] = _exposure(trades, len(equity)) * 100
    s["Equity Final [$]"] = last
    s["Equity Peak [$]"] = float(equity.max())
    s["Commissions [$]"] = float(sum(trades.commissions.tolist()))
    s["Return [%]"] = (last - first) / first * 100
    bh_base = float(close[warmup])
    s["Buy & Hold Return [%]"] = (float(close[-1]) - bh_base) / bh_base * 100

    ann_return, vol, period_rets = annualised(equity, cal, growth)
    s["Return (Ann.) [%]"] = ann_return * 100
    s["Volatility (Ann.) [%]"] = vol * 100
    years = (duration.days + duration.seconds / 86400) / 365.25
    s["CAGR [%]"] = ((last / first) ** (1 / years) - 1) * 100 if years else math.nan
    s["Sharpe Ratio"] = _div(s["Return (Ann.) [%]"], s["Volatility (Ann.) [%]"] or math.nan)
    downside = np.minimum(period_rets, 0.0)
    downside_dev = math.sqrt(downside @ downside / len(downside)) if len(downside) else math.nan
    s["Sortino Ratio"] = _div(ann_return, downside_dev * math.sqrt(cal.annual_periods))
    dd = drawdown(equity) if drawdown_ is None else drawdown_
    max_dd = -_nan_to_zero(float(dd.max()))
    s["Calmar Ratio"] = _div(ann_return, -max_dd or math.nan)
    beta = _beta(equity, bars, growth)
    s["Alpha [%]"] = s["Return [%]"] - beta * s["Buy & Hold Return [%]"]
    s["Beta"] = beta

    durations, peaks = drawdown_periods(dd, ns)
    s["Max. Drawdown [%]"] = max_dd * 100
    s["Avg. Drawdown [%]"] = -float(peaks.sum() / len(peaks)) * 100 if len(peaks) else math.nan
    res, n_dd = cal.resolution_ns, len(durations)
    s["Max. Drawdown Duration"] = _ceil(durations.max() if n_dd else 0, min(n_dd, 1), res)
    s["Avg. Drawdown Duration"] = _ceil(durations.sum(), n_dd, res)
    s.update(_trade_stats(trades, ns, res))
    return s


def _trade_stats(trades: TradeTable, ns: np.ndarray, res: int) -> dict[str, Any]:
    """Trade statistics, definitions as backtesting.py's. Sums run left to right over
    Python floats (the same rounding as always); the rest is vectorised."""
    n = len(trades)
    if not n:
        undefined: dict[str, Any] = dict.fromkeys(
            STAT_KEYS[STAT_KEYS.index("# Trades") :], math.nan
        )
        undefined.update(
            {"# Trades": 0, "Max. Trade Duration": pd.NaT, "Avg. Trade Duration": pd.NaT}
        )
        return undefined
    pl, returns = trades.pnl.tolist(), trades.returns.tolist()
    win_pl = [p for p in pl if p > 0]
    loss_pl = [p for p in pl if p < 0]
    gain_ret = sum([r for r in returns if r > 0], 0.0)
    loss_ret = sum([r for r in returns if r < 0], 0.0)
    worst = min(returns)
    if worst > -1:
        growth = (trades.returns + 1).tolist()
        avg_trade = (math.exp(sum(map(math.log, growth), 0.0) / n) - 1) * 100
    else:
        avg_trade = 0.0  # a trade lost everything: the geometric mean is undefined
    win_rate = len(win_pl) / n
    mean_pl = sum(pl) / n
    pl_std = math.sqrt(sum([(p - mean_pl) ** 2 for p in pl]) / (n - 1)) if n > 1 else math.nan
    spans = (ns[trades.exit_bar] - ns[trades.entry_bar]).tolist()
    payoff = _div(
        sum(win_pl, 0.0) / len(win_pl) if win_pl else math.nan,
        -sum(loss_pl, 0.0) / len(loss_pl) if loss_pl else math.nan,
    )
    return {
        "# Trades": n,
        "Win Rate [%]": win_rate * 100,
        "Best Trade [%]": max(returns) * 100,
        "Worst Trade [%]": worst * 100,
        "Avg. Trade [%]": avg_trade,
        "Max. Trade Duration": _ceil(max(spans), 1, res),
        "Avg. Trade Duration": _ceil(sum(spans), n, res),
        "Profit Factor": gain_ret / (abs(loss_ret) or math.nan),
        "Expectancy [%]": sum(returns) / n * 100,
        "SQN": math.sqrt(n) * mean_pl / (pl_std or math.nan),
        "Kelly Criterion": win_rate - _div(1 - win_rate, payoff),
    }


def sweep_stats(*, equity: np.ndarray, cal: Calendar, n_trades: int) -> dict[str, float]:
    """The subset of `compute_stats` a parameter sweep reports, same definitions."""
    ann_return, vol, _ = annualised(equity, cal)
    max_dd = -_nan_to_zero(float(drawdown(equity).max()))
    return {
        "Return [%]": float((equity[-1] - equity[0]) / equity[0] * 100),
        "Sharpe Ratio": float(ann_return * 100 / (vol * 100 or np.nan)),
        "Max. Drawdown [%]": max_dd * 100,
        "# Trades": n_trades,
        "Equity Final [$]": float(equity[-1]),
    }
