"""Portfolio performance from the ledger and a table of daily closes; no Django import.

The ledger (portfolios.ledger) is exact Decimal bookkeeping; performance is statistics, so
it works in floats. Everything here starts from one "value frame" built by `daily_values`:
a DataFrame indexed by trading day with columns

    market_value, cash, value   at that day's close (value = market_value + cash)
    inflow, outflow             external money in / out that day (both >= 0)

External flows are `portfolios.ledger.external_flow`: deposits/withdrawals when cash is
tracked; buys (in), sells, dividends and interest (out) and fee charges (in) when it is not.
The benchmark frame from `benchmark_values` has the same columns, so every function below
works on either. Definitions: docs/portfolio-maths.md.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from portfolios.ledger import Ledger, TxnType, cash_delta, external_flow

PERIODS = ("1M", "3M", "YTD", "1Y", "Max")
FRAME_COLUMNS = ["market_value", "cash", "value", "inflow", "outflow"]
DAYS_PER_YEAR = 365.0


# --- periods -------------------------------------------------------------------------------


def period_start(period: str, as_of: dt.date) -> dt.date | None:
    """The close the period is measured from; None for "Max" (since inception).

    1M/3M/1Y: the same day 1/3/12 months earlier (clamped to month end, so 1M before
    2024-03-31 is 2024-02-29). YTD: 31 December of the previous year.
    """
    match period:
        case "1M":
            return _add_months(as_of, -1)
        case "3M":
            return _add_months(as_of, -3)
        case "1Y":
            return _add_months(as_of, -12)
        case "YTD":
            return dt.date(as_of.year - 1, 12, 31)
        case "Max":
            return None
    raise ValueError(f"Unknown period {period!r}; expected one of {', '.join(PERIODS)}")


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


# --- the value frame -----------------------------------------------------------------------


def _closes(prices: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    closes = prices.copy()
    closes.index = pd.DatetimeIndex(pd.to_datetime(closes.index)).normalize()
    return closes.sort_index().ffill()


def daily_values(
    ledger: Ledger, prices: pd.DataFrame, *, end: dt.date | None = None
) -> pd.DataFrame:
    """The value frame of `ledger` over the trading days (rows) of `prices`.

    1. Trading days run from the first transaction date to `end` (default: last row of
       `prices`); a transaction on a non-trading day counts on the next trading day.
    2. Closes are carried forward over gaps; a symbol with no close yet is valued at its
       last trade price. Closes must be as traded (not split-adjusted): the ledger's split
       transactions do the adjusting.
    3. Quantities and cash follow the ledger's transactions; cash counts only when tracked.
    """
    closes = _closes(prices)
    txns = ledger.txns
    if not txns:
        return pd.DataFrame(columns=FRAME_COLUMNS, index=pd.DatetimeIndex([], name="date"))
    days = closes.index[closes.index >= pd.Timestamp(txns[0].trade_date)]
    if end is not None:
        days = days[days <= pd.Timestamp(end)]
    symbols = sorted({t.symbol for t in txns if t.type in (TxnType.BUY, TxnType.SELL)})
    column = {s: k for k, s in enumerate(symbols)}
    qty = np.zeros((len(days), len(symbols)))
    fallback = np.full((len(days), len(symbols)), np.nan)
    cash = np.zeros(len(days))
    inflow = np.zeros(len(days))
    outflow = np.zeros(len(days))
    held = np.zeros(len(symbols))
    last_trade = np.full(len(symbols), np.nan)
    balance = 0.0
    j = 0
    for row, day in enumerate(days):
        while j < len(txns) and pd.Timestamp(txns[j].trade_date) <= day:
            txn = txns[j]
            j += 1
            balance += float(cash_delta(txn))
            flow = float(external_flow(txn, track_cash=ledger.track_cash))
            inflow[row] += max(flow, 0.0)
            outflow[row] += max(-flow, 0.0)
            k = column.get(txn.symbol)
            if k is None:
                continue
            if txn.type is TxnType.BUY:
                held[k] += float(txn.quantity)
                last_trade[k] = float(txn.price)
            elif txn.type is TxnType.SELL:
                held[k] -= float(txn.quantity)
                last_trade[k] = float(txn.price)
            elif txn.type is TxnType.SPLIT:
                held[k] *= float(txn.quantity)
                last_trade[k] /= float(txn.quantity)
        qty[row] = held
        fallback[row] = last_trade
        cash[row] = balance if ledger.track_cash else 0.0
    price = closes.reindex(index=days, columns=symbols).to_numpy(dtype=float)
    price = np.where(np.isnan(price), fallback, price)
    market_value = np.where(qty == 0, 0.0, qty * price).sum(axis=1)
    frame = pd.DataFrame(
        {
            "market_value": market_value,
            "cash": cash,
            "value": market_value + cash,
            "inflow": inflow,
            "outflow": outflow,
        },
        index=pd.DatetimeIndex(days, name="date"),
    )
    return frame


def benchmark_values(frame: pd.DataFrame, closes: pd.Series) -> pd.DataFrame:
    """The same external flows invested in a benchmark, as a value frame on `frame`'s days.

    1. An inflow buys units at the day's close (flows happen at the close, as in
       `twr_returns`).
    2. An outflow sells units at the day's close; if the benchmark holding is smaller than
       the outflow it is sold out (units never go negative).
    3. Closes are carried forward over gaps, and back from the first close if the benchmark
       starts later than the portfolio.
    """
    prices = _closes(closes).reindex(frame.index).ffill().bfill().to_numpy(dtype=float)
    units = 0.0
    values = np.zeros(len(frame))
    held = np.zeros(len(frame))
    for row, (inflow, outflow) in enumerate(zip(frame["inflow"], frame["outflow"], strict=True)):
        units += inflow / prices[row]
        units = max(units - outflow / prices[row], 0.0)
        held[row] = units
        values[row] = units * prices[row]
    return pd.DataFrame(
        {
            "market_value": values,
            "cash": 0.0,
            "value": values,
            "inflow": frame["inflow"].to_numpy(),
            "outflow": frame["outflow"].to_numpy(),
            "units": held,
        },
        index=frame.index,
    )


# --- time-weighted return ------------------------------------------------------------------


def twr_returns(frame: pd.DataFrame) -> pd.Series:
    """Daily time-weighted returns, external flows at the day's close.

    1. r_t = (V_t + O_t - I_t) / V_{t-1} - 1: money that arrives on day t (I_t) was not
       exposed to the move from the previous close, and money that leaves (O_t) earned it.
       So a deposit invested at the close adds nothing to the day's return, and a fully
       invested single stock earns exactly its price return.
    2. When nothing was at work at the previous close (V_{t-1} <= 0, e.g. the first day), the
       day's inflow is the base: r_t = (V_t + O_t) / I_t - 1 (a purchase above or below the
       close earns the difference).
    3. Nothing at work and nothing coming in: r_t = 0.
    """
    value = frame["value"].to_numpy(dtype=float)
    inflow = frame["inflow"].to_numpy(dtype=float)
    previous = np.concatenate([[0.0], value[:-1]])
    finish = value + frame["outflow"].to_numpy(dtype=float)
    at_work = previous > 0
    start = np.where(at_work, previous, inflow)
    finish = np.where(at_work, finish - inflow, finish)
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.where(start > 0, finish / start - 1.0, 0.0)
    return pd.Series(returns, index=frame.index, name="twr")


def twr_index(frame: pd.DataFrame) -> pd.Series:
    """Growth of $1 invested at inception, linking the daily time-weighted returns."""
    return (1.0 + twr_returns(frame)).cumprod().rename("twr_index")


def _at_or_before(series: pd.Series, day: dt.date) -> tuple[pd.Timestamp, float] | None:
    head = series[series.index <= pd.Timestamp(day)]
    if head.empty:
        return None
    return head.index[-1], float(head.iloc[-1])


def period_twr(frame: pd.DataFrame, start: dt.date | None, end: dt.date) -> float | None:
    """Cumulative TWR from the close on `start` (None: inception) to the close on `end`.

    Measured on the last trading days at or before each date; a start before inception counts
    from $1. None when there is no trading day at or before `end`.
    """
    index = twr_index(frame)
    last = _at_or_before(index, end)
    if last is None:
        return None
    first = _at_or_before(index, start) if start is not None else None
    return last[1] / (first[1] if first else 1.0) - 1.0


def annualise(total_return: float, days: float) -> float | None:
    """(1 + R) ** (365 / days) - 1 for a return R earned over `days` calendar days."""
    if days <= 0 or total_return <= -1.0:
        return None
    return (1.0 + total_return) ** (DAYS_PER_YEAR / days) - 1.0


# --- money-weighted return -----------------------------------------------------------------

_GRID = [-0.999999999, -0.99999, -0.9999, -0.999, -0.99, -0.95, -0.9, -0.75, -0.5, -0.25, -0.1, 0.0]
_GRID += [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0, 1e3, 1e4, 1e6, 1e9]


def xirr(cash_flows: Iterable[tuple[dt.date, float | Decimal]]) -> float | None:
    """Annual rate r with sum(cf_i / (1 + r) ** ((d_i - d_0) / 365)) = 0 (Actual/365).

    Investor's view: money put in is negative, money taken out (and the final value)
    positive.
    1. None unless there is at least one positive and one negative flow, on different days
       (over no time at all a rate is undefined).
    2. Scan a grid of rates from -99.9999999% to 1e9 for sign changes of the NPV; solve each
       bracket with brentq in ln(1 + r) (exact in the growth factor even near -100%) and
       return the root closest to 0.
    3. No bracket: try Newton from 10%; None if it does not converge to a rate above -100%.
    """
    flows = sorted((d, float(a)) for d, a in cash_flows if a)
    if not any(a > 0 for _, a in flows) or not any(a < 0 for _, a in flows):
        return None
    if flows[0][0] == flows[-1][0]:
        return None
    from scipy import optimize  # loaded on first use: keeps scipy out of every process start

    d0 = flows[0][0]
    years = np.array([(d - d0).days / DAYS_PER_YEAR for d, _ in flows])
    amounts = np.array([a for _, a in flows])

    def npv(rate: float) -> float:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return float(np.sum(amounts / (1.0 + rate) ** years))

    def npv_of_log_growth(u: float) -> float:  # u = ln(1 + rate)
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.sum(amounts * np.exp(-u * years)))

    # The brackets are found with the very function brentq solves: a root on a grid rate
    # leaves the two forms of the NPV a rounding error from zero with opposite signs.
    values = [npv_of_log_growth(math.log1p(r)) for r in _GRID]
    roots = []
    for lo, hi, f_lo, f_hi in zip(_GRID, _GRID[1:], values, values[1:], strict=False):
        if f_lo == 0.0:
            roots.append(lo)
        elif math.isfinite(f_lo) and math.isfinite(f_hi) and f_lo * f_hi < 0:
            # Solved in ln(1 + r): near -100% the growth factor 1 + r is ~1e-9, and a tolerance
            # on r itself would leave it wrong by 1e-4 of itself (NPV off by 1e-5 on 2.55).
            u = optimize.brentq(
                npv_of_log_growth,
                math.log1p(lo),
                math.log1p(hi),
                xtol=1e-15,
                rtol=1e-13,
                maxiter=500,
            )
            roots.append(math.expm1(u))
    if roots:
        return min(roots, key=abs)
    return _newton(npv, years, amounts)


def _newton(npv: Callable[[float], float], years: np.ndarray, amounts: np.ndarray) -> float | None:
    def slope(rate: float) -> float:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return float(np.sum(-years * amounts / (1.0 + rate) ** (years + 1.0)))

    from scipy import optimize

    try:
        rate = optimize.newton(npv, 0.1, fprime=slope, maxiter=200)
    except (RuntimeError, OverflowError, ZeroDivisionError):
        return None
    if not math.isfinite(rate) or rate <= -1.0 or abs(npv(rate)) > 1e-6 * np.abs(amounts).sum():
        return None
    return float(rate)


def period_cash_flows(
    frame: pd.DataFrame, start: dt.date | None, end: dt.date
) -> list[tuple[dt.date, float]]:
    """The investor's cash flows over a period, for `xirr`.

    1. The value at the close on `start` (the last trading day at or before it), dated
       `start`, is money put in (negative); skipped when `start` is None or before inception.
    2. Each trading day after `start` up to `end`: its inflow negative, its outflow positive.
    3. The value at the close on `end` (last trading day at or before it), dated `end`, is
       money taken out (positive).
    """
    upto = frame[frame.index <= pd.Timestamp(end)]
    if upto.empty:
        return []
    flows: list[tuple[dt.date, float]] = []
    if start is not None:
        before = upto[upto.index <= pd.Timestamp(start)]
        if not before.empty:
            flows.append((start, -float(before["value"].iloc[-1])))
        upto = upto[upto.index > pd.Timestamp(start)]
    # Only the days that moved money: a portfolio's years of quiet days are skipped in C
    # rather than walked row by row (the page computes this for every period).
    moved = upto[(upto["inflow"] != 0) | (upto["outflow"] != 0)]
    inflows, outflows = moved["inflow"].to_numpy(float), moved["outflow"].to_numpy(float)
    for day, inflow, outflow in zip(moved.index, inflows, outflows, strict=True):
        if inflow:
            flows.append((day.date(), -float(inflow)))
        if outflow:
            flows.append((day.date(), float(outflow)))
    last_value = frame.loc[frame.index <= pd.Timestamp(end), "value"].iloc[-1]
    flows.append((end, float(last_value)))
    return flows


def period_xirr(frame: pd.DataFrame, start: dt.date | None, end: dt.date) -> float | None:
    return xirr(period_cash_flows(frame, start, end))


# --- drawdown ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drawdown:
    """Largest fall from a running peak: depth = (peak - trough) / peak, a fraction >= 0."""

    depth: float
    peak: dt.date
    trough: dt.date
    recovered: dt.date | None


def max_drawdown(series: pd.Series) -> Drawdown | None:
    """Max over t of (max_{s<=t} x_s - x_t) / max_{s<=t} x_s, with its peak and trough dates.

    Give it the TWR index (`twr_index`), not raw values, so deposits do not look like gains
    and withdrawals like losses (`portfolio_drawdown` does). `recovered` is the first date
    after the trough back at the peak, or None. No fall: depth 0, peak = trough = first date.
    """
    series = series.dropna()
    if series.empty:
        return None
    peaks = series.cummax()
    with np.errstate(divide="ignore", invalid="ignore"):
        falls = ((peaks - series) / peaks).where(peaks > 0, 0.0)
    trough = falls.idxmax()
    depth = float(falls.loc[trough])
    if depth <= 0:
        first = series.index[0]
        return Drawdown(0.0, _as_date(first), _as_date(first), None)
    peak = series.loc[:trough].idxmax()
    after = series.loc[trough:]
    back = after[after >= series.loc[peak]]
    recovered = _as_date(back.index[0]) if not back.empty else None
    return Drawdown(depth, _as_date(peak), _as_date(trough), recovered)


def portfolio_drawdown(frame: pd.DataFrame) -> Drawdown | None:
    return max_drawdown(twr_index(frame))


def _as_date(value: object) -> dt.date:
    return value.date() if isinstance(value, pd.Timestamp) else value


# --- period summary ------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodReturn:
    """Returns for one period; `twr` is cumulative, `twr_annualised` and `xirr` per year.

    `days` is the calendar length the annualising used. Under a year, the figures to show
    are the period's own (`shown_twr`, `shown_mwr`: cumulative); from a year on, per year.
    """

    period: str
    start: dt.date | None
    end: dt.date
    twr: float | None
    twr_annualised: float | None
    xirr: float | None
    benchmark_twr: float | None = None
    benchmark_xirr: float | None = None
    days: int = 0

    @property
    def annualised(self) -> bool:
        return self.days >= DAYS_PER_YEAR

    @property
    def mwr(self) -> float | None:
        """Money-weighted return over the period, cumulative (XIRR compounded over `days`)."""
        return deannualise(self.xirr, self.days)

    @property
    def shown_twr(self) -> float | None:
        return self.twr_annualised if self.annualised else self.twr

    @property
    def shown_mwr(self) -> float | None:
        return self.xirr if self.annualised else self.mwr

    @property
    def shown_benchmark_twr(self) -> float | None:
        if not self.annualised or self.benchmark_twr is None:
            return self.benchmark_twr
        return annualise(self.benchmark_twr, self.days)

    @property
    def explanation(self) -> str:
        return why_twr_differs(self.twr_annualised, self.xirr)


def deannualise(rate: float | None, days: float) -> float | None:
    """(1 + r) ** (days / 365) - 1: what a per-year rate `r` earns over `days`."""
    if rate is None or days <= 0:
        return None
    return (1.0 + rate) ** (days / DAYS_PER_YEAR) - 1.0


def window_return(
    frame: pd.DataFrame,
    start: dt.date | None,
    end: dt.date,
    *,
    period: str = "Range",
    benchmark: pd.DataFrame | None = None,
) -> PeriodReturn:
    """TWR and XIRR of `frame` (and `benchmark`) from the close on `start` (None: inception)
    to the close on `end`."""
    twr = period_twr(frame, start, end)
    span = _span_days(frame, start, end)
    return PeriodReturn(
        period=period,
        start=start,
        end=end,
        twr=twr,
        twr_annualised=annualise(twr, span) if twr is not None else None,
        xirr=period_xirr(frame, start, end),
        benchmark_twr=period_twr(benchmark, start, end) if benchmark is not None else None,
        benchmark_xirr=period_xirr(benchmark, start, end) if benchmark is not None else None,
        days=span,
    )


def period_returns(
    frame: pd.DataFrame,
    as_of: dt.date,
    *,
    benchmark: pd.DataFrame | None = None,
    periods: Sequence[str] = PERIODS,
) -> list[PeriodReturn]:
    """TWR and XIRR of `frame` (and of a `benchmark_values` frame) for each period to `as_of`.

    Annualising uses the calendar days from the period start (inception: the first row, as
    flows arrive at its close) to `as_of`.
    """
    return [
        window_return(frame, period_start(period, as_of), as_of, period=period, benchmark=benchmark)
        for period in periods
    ]


def _span_days(frame: pd.DataFrame, start: dt.date | None, end: dt.date) -> int:
    if frame.empty:
        return 0
    inception = frame.index[0].date()
    begin = inception if start is None else max(start, inception)
    return (end - begin).days


def _return_text(fraction: float) -> str:
    """A return as the pages show it (qunex/templatetags/numbers.frac_pct, the site's rule):
    0.05 -> "+5.00%", -0.0123 -> "\u22121.23%", rounded half away from zero."""
    if not math.isfinite(fraction) or abs(fraction) >= 1e20:
        return "\u2014"  # nothing a page could show as a return
    shown = (Decimal(str(fraction)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{abs(shown):,.2f}%"
    return text if shown == 0 else ("+" if shown > 0 else "\u2212") + text


def why_twr_differs(twr: float | None, xirr: float | None, *, tolerance: float = 0.005) -> str:
    """One sentence on why money-weighted (XIRR) and time-weighted return differ.

    Pass both annualised over the same period. Within `tolerance` (0.5 points) they agree.
    """
    if twr is None or xirr is None:
        return (
            "Money-weighted return is not available for this period because money only went "
            "one way, so only the time-weighted return is shown."
        )
    gap = xirr - twr
    mwr, tw = _return_text(xirr), _return_text(twr)
    if abs(gap) < tolerance:
        return (
            f"Money-weighted ({mwr}) and time-weighted ({tw}) returns agree because "
            "deposits and withdrawals were small or evenly timed relative to the market's moves."
        )
    if gap < 0:
        return (
            f"Money-weighted return ({mwr}) is lower than time-weighted ({tw}) "
            "because more money was invested before the weaker stretch of the period."
        )
    return (
        f"Money-weighted return ({mwr}) is higher than time-weighted ({tw}) "
        "because more money was invested before the stronger stretch of the period."
    )


# --- allocation ----------------------------------------------------------------------------


def allocation_by_holding(
    market_values: Mapping[str, Decimal | float], *, cash: Decimal | float = 0
) -> dict[str, float]:
    """Weights (summing to 1) of each holding, plus "Cash" when `cash` > 0, largest first."""
    parts = {s: float(v) for s, v in market_values.items() if v > 0}
    if cash > 0:
        parts["Cash"] = float(cash)
    return _weights(parts)


def allocation_by_sector(
    market_values: Mapping[str, Decimal | float],
    sectors: Mapping[str, str],
    *,
    cash: Decimal | float = 0,
) -> dict[str, float]:
    """Weights (summing to 1) by sector; symbols missing from `sectors` go to "Unknown"."""
    parts: dict[str, float] = {}
    for symbol, value in market_values.items():
        if value > 0:
            sector = sectors.get(symbol) or "Unknown"
            parts[sector] = parts.get(sector, 0.0) + float(value)
    if cash > 0:
        parts["Cash"] = parts.get("Cash", 0.0) + float(cash)
    return _weights(parts)


def _weights(parts: dict[str, float]) -> dict[str, float]:
    total = sum(parts.values())
    if total <= 0:
        return {}
    ranked = sorted(parts.items(), key=lambda item: (-item[1], item[0]))
    return {name: value / total for name, value in ranked}
