"""Backtest statistics with backtesting.py 0.6.6's definitions (`backtesting/_stats.py`).

Same keys, same formulas, computed with numpy instead of pandas so that a sweep can afford
them. Every formula is written out in docs/backtest-statistics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from backtests.engine import Bars

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


@dataclass(frozen=True)
class TradeTable:
    """Closed trades as parallel arrays, the way stats need them."""

    entry_bar: np.ndarray
    exit_bar: np.ndarray
    pnl: np.ndarray
    returns: np.ndarray  # fraction, net of commissions
    commissions: np.ndarray

    def __len__(self) -> int:
        return len(self.pnl)


def calendar(bars: Bars) -> Calendar:
    return bars.memo(("calendar",), lambda: _calendar(bars.index))


def _calendar(index: pd.DatetimeIndex) -> Calendar:
    local = index.tz_localize(None) if index.tz is not None else index
    ns = local.as_unit("ns").asi8
    period = pd.Timedelta(int(np.median(np.diff(ns[-100:]))), unit="ns")
    freq_days = period.days
    days = ns // NS_PER_DAY
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    have_weekends = (weekday >= 5).mean() > 2 / 7 * 0.6
    annual = {7: 52, 31: 12, 365: 1}.get(freq_days, 365 if have_weekends else 252)
    freq = {7: "W", 31: "ME", 365: "YE"}.get(freq_days, "D")
    if freq == "D":
        ends = np.append(np.flatnonzero(days[1:] != days[:-1]), len(days) - 1)
    else:
        positions = pd.Series(np.arange(len(index)), index=index).resample(freq).last()
        ends = positions.dropna().to_numpy().astype(np.int64)
    resolution = pd.Timedelta(1, unit=period.resolution_string).value
    return Calendar(ends, float(annual), int(resolution))


def geometric_mean(returns: np.ndarray) -> float:
    """exp(mean(log(1 + r))) - 1, or 0 if any r <= -1 (returns here never hold NaN)."""
    growth = returns + 1
    if np.any(growth <= 0):
        return 0.0
    return float(np.exp(np.log(growth).sum() / (len(growth) or np.nan)) - 1)


def period_returns(equity: np.ndarray, cal: Calendar) -> np.ndarray:
    sampled = equity[cal.period_ends]
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = sampled[1:] / sampled[:-1] - 1
    return returns[~np.isnan(returns)]


def annualised(equity: np.ndarray, cal: Calendar) -> tuple[float, float, np.ndarray]:
    """(annual return, annual volatility, period returns), both as fractions."""
    returns = period_returns(equity, cal)
    gmean = geometric_mean(returns)
    periods = cal.annual_periods
    var = returns.var(ddof=1) if len(returns) > 1 else np.nan
    ann_return = (1 + gmean) ** periods - 1
    vol = np.sqrt((var + (1 + gmean) ** 2) ** periods - (1 + gmean) ** (2 * periods))
    return float(ann_return), float(vol), returns


def drawdown(equity: np.ndarray) -> np.ndarray:
    """Fraction below the running peak: 0 at a new high, 0.25 when 25 % under it."""
    return 1 - equity / np.maximum.accumulate(equity)


def drawdown_periods(dd: np.ndarray, ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(durations in ns, peak depths) of each drawdown, as backtesting.py delimits them.

    1. Candidate ends are the bars at a peak (dd == 0) plus the last bar.
    2. A drawdown runs between consecutive candidates at least two bars apart.
    3. Its duration is the time between them, its depth the largest dd in between.
    """
    ends = np.flatnonzero(dd == 0)
    if not len(ends) or ends[-1] != len(dd) - 1:
        ends = np.append(ends, len(dd) - 1)
    prev, cur = ends[:-1], ends[1:]
    keep = cur > prev + 1
    prev, cur = prev[keep], cur[keep]
    if not len(cur):
        return np.array([], dtype=np.int64), np.array([])
    bounds = np.empty(2 * len(cur), dtype=np.int64)
    bounds[0::2], bounds[1::2] = prev, cur + 1
    peaks = np.maximum.reduceat(np.append(dd, 0.0), bounds)[0::2]
    return ns[cur] - ns[prev], peaks


def _ceil(total_ns: int, count: int, resolution_ns: int) -> pd.Timedelta | Any:
    """total / count rounded up to the data's resolution (backtesting.py's `_round_timedelta`),
    in integers so whole days stay whole."""
    if not count:
        return pd.NaT
    units = -(-int(total_ns) // (count * resolution_ns))
    return pd.Timedelta(units * resolution_ns, unit="ns")


def _market_log_deviations(close: np.ndarray) -> tuple[np.ndarray, float]:
    market = np.log(close[1:] / close[:-1])
    deviations = market - market.mean()
    return deviations, float(deviations @ deviations)


def _beta(equity: np.ndarray, bars: Bars) -> float:
    """cov(equity log returns, market log returns) / var(market log returns), bar by bar."""
    if len(equity) < 3:
        return np.nan
    market, market_ss = bars.memo(("market_log",), lambda: _market_log_deviations(bars.close))
    with np.errstate(divide="ignore", invalid="ignore"):
        own = np.log(equity[1:] / equity[:-1])
        return float((own - own.mean()) @ market / market_ss)


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else np.nan


def compute_stats(
    *, equity: np.ndarray, bars: Bars, trades: TradeTable, warmup: int
) -> dict[str, Any]:
    """The statistics backtesting.py's `compute_stats` reports (risk-free rate 0)."""
    index, close = bars.index, bars.close
    ns = bars.ns
    cal = calendar(bars)
    n_trades = len(trades)
    s: dict[str, Any] = {}
    s["Start"], s["End"] = index[0], index[-1]
    s["Duration"] = s["End"] - s["Start"]

    exposed = np.zeros(len(equity) + 1, dtype=np.int64)
    np.add.at(exposed, trades.entry_bar, 1)
    np.add.at(exposed, trades.exit_bar + 1, -1)
    s["Exposure Time [%]"] = float((np.cumsum(exposed[:-1]) > 0).mean() * 100)
    s["Equity Final [$]"] = float(equity[-1])
    s["Equity Peak [$]"] = float(equity.max())
    s["Commissions [$]"] = float(trades.commissions.sum())
    s["Return [%]"] = float((equity[-1] - equity[0]) / equity[0] * 100)
    bh_base = close[warmup]
    s["Buy & Hold Return [%]"] = float((close[-1] - bh_base) / bh_base * 100)

    ann_return, vol, period_rets = annualised(equity, cal)
    s["Return (Ann.) [%]"] = ann_return * 100
    s["Volatility (Ann.) [%]"] = vol * 100
    duration = s["Duration"]
    years = (duration.days + duration.seconds / 86400) / 365.25
    s["CAGR [%]"] = ((equity[-1] / equity[0]) ** (1 / years) - 1) * 100 if years else np.nan
    s["Sharpe Ratio"] = s["Return (Ann.) [%]"] / (s["Volatility (Ann.) [%]"] or np.nan)
    downside = np.sqrt(_mean(np.clip(period_rets, -np.inf, 0) ** 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        s["Sortino Ratio"] = float(
            np.float64(ann_return) / (downside * np.sqrt(cal.annual_periods))
        )
    dd = drawdown(equity)
    max_dd = -float(np.nan_to_num(dd.max()))
    s["Calmar Ratio"] = ann_return / (-max_dd or np.nan)

    beta = _beta(equity, bars)
    s["Alpha [%]"] = s["Return [%]"] - beta * s["Buy & Hold Return [%]"]
    s["Beta"] = beta

    durations, peaks = drawdown_periods(dd, ns)
    s["Max. Drawdown [%]"] = max_dd * 100
    s["Avg. Drawdown [%]"] = -_mean(peaks) * 100
    res, n_dd = cal.resolution_ns, len(durations)
    s["Max. Drawdown Duration"] = _ceil(durations.max() if n_dd else 0, min(n_dd, 1), res)
    s["Avg. Drawdown Duration"] = _ceil(durations.sum(), n_dd, res)

    pl, returns = trades.pnl, trades.returns
    s["# Trades"] = n_trades
    win_rate = np.nan if not n_trades else float((pl > 0).mean())
    s["Win Rate [%]"] = win_rate * 100
    s["Best Trade [%]"] = float(returns.max()) * 100 if n_trades else np.nan
    s["Worst Trade [%]"] = float(returns.min()) * 100 if n_trades else np.nan
    s["Avg. Trade [%]"] = geometric_mean(returns) * 100
    trade_ns = ns[trades.exit_bar] - ns[trades.entry_bar]
    s["Max. Trade Duration"] = _ceil(trade_ns.max() if n_trades else 0, min(n_trades, 1), res)
    s["Avg. Trade Duration"] = _ceil(trade_ns.sum(), n_trades, res)
    losses = abs(returns[returns < 0].sum())
    s["Profit Factor"] = float(returns[returns > 0].sum() / (losses or np.nan))
    s["Expectancy [%]"] = _mean(returns) * 100
    pl_std = pl.std(ddof=1) if n_trades > 1 else np.nan
    s["SQN"] = float(np.sqrt(n_trades) * _mean(pl) / (pl_std or np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        payoff = _mean(pl[pl > 0]) / -_mean(pl[pl < 0])
        s["Kelly Criterion"] = float(win_rate - (1 - win_rate) / payoff)
    return s


def sweep_stats(*, equity: np.ndarray, cal: Calendar, n_trades: int) -> dict[str, float]:
    """The subset of `compute_stats` a parameter sweep reports, same definitions."""
    ann_return, vol, _ = annualised(equity, cal)
    max_dd = -float(np.nan_to_num(drawdown(equity).max()))
    return {
        "Return [%]": float((equity[-1] - equity[0]) / equity[0] * 100),
        "Sharpe Ratio": float(ann_return * 100 / (vol * 100 or np.nan)),
        "Max. Drawdown [%]": max_dd * 100,
        "# Trades": n_trades,
        "Equity Final [$]": float(equity[-1]),
    }
