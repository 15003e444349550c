"""The backtest engine: pure numpy/pandas, no Django.

Conventions (the same as backtesting.py 0.6.6 run with `trade_on_close=False`,
`exclusive_orders=True`, `hedging=False`, `margin=1`, `finalize_trades=False` and orders of
the default size, see docs/backtest-statistics.md):

- A strategy's target changes at the close of bar i; the order fills at bar i + 1's open.
  Only one position at a time: a change first closes the open position, then opens the new one.
- Decisions start at bar `warmup + 1`; a decision on the last bar is never filled.
- Whole shares: size = floor(0.9999... * cash / (price * (1 +/- spread) + commission per unit)).
- The spread is paid once, on entry (entry price = open * (1 + spread), short: 1 - spread);
  exits fill at the raw price. Commission (relative + fixed) is charged on entry and exit.
- Stop-loss / take-profit are fractions of the entry price, checked from the entry bar on;
  the stop fills at min(open, stop) (a gap fills at the open), the target at max(open, target);
  when both are touched in one bar the stop wins.
- A trade still open on the last bar is reported as `open_trade`, marked to the last close in
  the equity curve, and left out of the trade statistics. With `close_at_end` (backtesting.py's
  `finalize_trades=True`) it is closed instead, at the last bar's open (after that bar's
  stop-loss/take-profit check), with exit reason "end", and counted in the statistics.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from backtests.bars import Bars, as_bars, as_ns
from backtests.stats import NS_PER_DAY, TradeTable, compute_stats, drawdown
from backtests.strategies import InvalidParams, Signal, clean_params, compute_signal

ENGINE_VERSION = "2.0"  # 2.0: crossover strategies act on crossings only
FULL_EQUITY = 1 - sys.float_info.epsilon  # backtesting.py's default order size


@dataclass(frozen=True)
class Config:
    """Account and execution settings. Rates are fractions: 0.001 = 0.1 %."""

    cash: float = 10_000.0
    commission: float = 0.0  # of traded value, per order (entry and exit)
    commission_fixed: float = 0.0  # cash per order (entry and exit)
    spread: float = 0.0  # paid once, on entry
    allow_short: bool = False
    stop_loss: float | None = None  # e.g. 0.05: exit 5 % against the entry price
    take_profit: float | None = None  # e.g. 0.10: exit 10 % in favour of the entry price
    close_at_end: bool = False  # backtesting.py's finalize_trades: close at the last bar's open

    def __post_init__(self) -> None:
        errors = {}
        if not (math.isfinite(self.cash) and self.cash > 0):
            errors["cash"] = "Must be a positive amount."
        if not 0 <= self.commission < 0.1:
            errors["commission"] = "Must be at least 0 and below 0.1 (10 %)."
        if not (math.isfinite(self.commission_fixed) and self.commission_fixed >= 0):
            errors["commission_fixed"] = "Must be zero or a positive amount."
        if not 0 <= self.spread < 0.1:
            errors["spread"] = "Must be at least 0 and below 0.1 (10 %)."
        for name in ("stop_loss", "take_profit"):
            value = getattr(self, name)
            if value is not None and not 0 < value < 1:
                errors[name] = "Must be above 0 and below 1 (100 %)."
        if errors:
            raise InvalidParams(errors)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Trade(NamedTuple):
    """One trade (a record: built in bulk, so a tuple rather than a dataclass)."""

    size: int  # shares, negative for a short
    entry_bar: int
    exit_bar: int | None  # None while open
    entry_time: datetime
    exit_time: datetime | None
    entry_price: float  # includes the spread
    exit_price: float  # the last close for an open trade
    pnl: float  # net of both commissions (open trade: entry commission only)
    return_pct: float  # pnl per unit of entry value, in percent
    commission: float
    exit_reason: str  # signal | stop_loss | take_profit | end | open | broke (equity hit 0)
    stop_loss: float | None = None
    take_profit: float | None = None
    mark_time: datetime | None = None  # last bar's time, for an open trade's duration

    @property
    def is_long(self) -> bool:
        return self.size > 0

    @property
    def duration(self) -> pd.Timedelta:
        end = self.exit_time if self.exit_time is not None else self.mark_time
        return pd.Timedelta(end - self.entry_time)

    def _duration_days(self) -> float:
        end = self.exit_time if self.exit_time is not None else self.mark_time
        return (end - self.entry_time).total_seconds() / 86_400  # datetime or Timestamp

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "side": "long" if self.is_long else "short",
            "entry_bar": self.entry_bar,
            "exit_bar": self.exit_bar,
            "entry_time": self.entry_time.isoformat(),
            "exit_time": self.exit_time.isoformat() if self.exit_time is not None else None,
            "entry_price": self.entry_price,
            "exit_price": self.exit_price,
            "pnl": self.pnl,
            "return_pct": self.return_pct,
            "commission": self.commission,
            "duration_days": self._duration_days(),
            "exit_reason": self.exit_reason,
            "stop_loss": self.stop_loss,
            "take_profit": self.take_profit,
        }


class _Fill(NamedTuple):
    """One trade as the bracket-aware fill loop records it."""

    entry_bar: int
    exit_bar: int
    size: int
    entry_price: float
    exit_price: float
    entry_commission: float
    exit_commission: float
    reason: str
    stop_loss: float | None
    take_profit: float | None


_new_fill = tuple.__new__  # builds a _Fill without NamedTuple.__new__'s overhead


@dataclass
class Fills:
    """Closed trades as columns, in time order (sizes are negative for shorts)."""

    entry_bar: np.ndarray
    exit_bar: np.ndarray
    size: np.ndarray
    entry_price: np.ndarray  # includes the spread
    exit_price: np.ndarray
    entry_commission: np.ndarray
    exit_commission: np.ndarray
    reason: list[str]
    stop_loss: list[float | None]
    take_profit: list[float | None]

    def __len__(self) -> int:
        return len(self.entry_bar)

    @classmethod
    def from_rows(cls, rows: list[_Fill]) -> Fills:
        columns = list(zip(*rows, strict=True)) or [()] * len(_Fill._fields)
        bars_and_sizes = (np.array(c, dtype=np.int64) for c in columns[:3])
        prices_and_costs = (np.array(c, dtype=float) for c in columns[3:7])
        return cls(*bars_and_sizes, *prices_and_costs, *map(list, columns[7:]))

    def rows(self) -> list[_Fill]:
        numbers = (getattr(self, name).tolist() for name in _Fill._fields[:7])
        return list(map(_Fill, *numbers, self.reason, self.stop_loss, self.take_profit))

    def table(self) -> TradeTable:
        commissions = self.entry_commission + self.exit_commission
        pnl, returns = _pnl_and_return(self.size, self.entry_price, self.exit_price, commissions)
        return TradeTable(self.entry_bar, self.exit_bar, pnl, returns, commissions)


def _pnl_and_return(size: Any, p_in: Any, p_out: Any, commission: Any) -> tuple[Any, Any]:
    """P&L and return (a fraction) of trades, as backtesting.py's `Trade.pl` / `pl_pct`;
    numpy arrays or single numbers."""
    pnl = size * (p_out - p_in) - commission
    returns = (p_out / p_in - 1) * np.sign(size) - commission / (np.abs(size) * p_in)
    return pnl, returns


@dataclass
class Simulation:
    """Raw engine output: the equity curve and fills, before any statistics."""

    equity: np.ndarray
    fills: Fills
    open_fill: _Fill | None  # exit fields describe a mark at the last close

    def trade_table(self) -> TradeTable:
        return self.fills.table()


class _Events(NamedTuple):
    """The account after each event, one event per bar at most (bars increasing): equity is
    `cash + size * (close - entry)` from an event's bar until the next event's."""

    bar: Any  # int array or list
    cash: Any
    size: Any
    entry: Any


def _first_exit(
    bars: Bars, start: int, stop: int, long: bool, sl: float | None, tp: float | None
) -> tuple[int, str] | None:
    """First bar in [start, stop) whose range touches the stop-loss or take-profit."""
    if start >= stop:
        return None
    low, high = bars.low[start:stop], bars.high[start:stop]
    best: tuple[int, str] | None = None
    if sl is not None:
        hit = low <= sl if long else high >= sl
        if hit.any():
            best = (int(hit.argmax()), "stop_loss")
    if tp is not None:
        hit = high >= tp if long else low <= tp
        if hit.any() and (best is None or int(hit.argmax()) < best[0]):
            best = (int(hit.argmax()), "take_profit")
    return None if best is None else (start + best[0], best[1])


def _orders(bars: Bars, signal: Signal) -> tuple[np.ndarray, np.ndarray]:
    """(fill bars, wanted positions) of each change of target: a change decided at bar i
    fills at bar i + 1; flat before `signal.first_bar`; no decision on the last bar."""
    n, target = len(bars), signal.target
    first = min(max(signal.first_bar, 0), n)
    decisions = target[first : n - 1]
    changed = (decisions[1:] != decisions[:-1]).nonzero()[0] + (first + 1)
    if len(decisions) and decisions[0] != 0:
        changed = np.concatenate(([first], changed))
    return changed + 1, target[changed]


def simulate(bars: Bars, signal: Signal, config: Config) -> Simulation:
    """Fill the target changes of `signal` on `bars` and return equity and fills.

    1. Decision bars are where the target differs from the bar before (flat before
       `signal.first_bar`); each fills at the next bar's open, the last bar's never.
    2. Between fills an open position may hit its stop-loss/take-profit (checked from the
       entry bar on, stop first).
    3. At a fill the open position (if any) is closed at the open, then the new one opened
       with whole shares sized on the cash left.
    4. Equity at each close = cash + size * (close - entry price).
    """
    if config.stop_loss is None and config.take_profit is None:
        orders = _sized_orders(bars, signal, config)
        events, fills, open_fill = _fill_orders(bars, orders, config)
    else:
        fill_bars, directions = _orders(bars, signal)
        events, fills, open_fill = _fill_with_brackets(bars, fill_bars, directions, config)
    equity = _equity(bars.close, config.cash, events)
    sim = Simulation(equity=equity, fills=fills, open_fill=open_fill)
    if equity.min() <= 0:
        return _stop_when_broke(sim, bars, config)
    return sim


def simulate_summary(bars: Bars, signal: Signal, config: Config) -> tuple[np.ndarray, int]:
    """(equity curve, closed trades) of `simulate`, for a sweep's statistics: the same
    orders and arithmetic, without building the trade records when nothing needs them
    (no stop-loss or take-profit, and equity stays above 0)."""
    if config.stop_loss is None and config.take_profit is None:
        orders = _sized_orders(bars, signal, config)
        equity = _equity(bars.close, config.cash, orders.events)
        if equity.min() > 0:
            return equity, int(np.count_nonzero(orders.held[:-1]))
    sim = simulate(bars, signal, config)
    return sim.equity, len(sim.fills)


class _SizedOrders(NamedTuple):
    """Orders without brackets, sized: each position opened at one order is closed at the
    next, so only the cash (which sizes every new position) needs a loop."""

    fill_bars: np.ndarray
    prices: np.ndarray  # the fill bars' opens
    entries: np.ndarray  # the prices with the spread
    sizes: np.ndarray  # the position after each order
    held: np.ndarray  # sizes != 0
    events: _Events


def _sized_orders(bars: Bars, signal: Signal, config: Config) -> _SizedOrders:
    fill_bars, directions = _orders(bars, signal)
    if config.close_at_end:  # one more order: flat at the last bar's open
        fill_bars = np.append(fill_bars, len(bars) - 1)
        directions = np.append(directions, np.int8(0)).astype(directions.dtype)
    rate, fixed, spread = config.commission, config.commission_fixed, config.spread
    prices = bars.open[fill_bars]
    cash, size, units, entry = config.cash, 0, 0, 0.0
    cash_after, size_after = [], []
    for price, direction in zip(prices.tolist(), directions.tolist(), strict=True):
        if size:  # close at the open
            cash += size * (price - entry) - (fixed + units * price * rate)
            size = 0
        if direction:
            entry = price * (1 + spread) if direction > 0 else price * (1 - spread)
            per_unit = entry + (fixed + FULL_EQUITY * price * rate) / FULL_EQUITY
            units = int((cash * FULL_EQUITY) // per_unit)
            if units > 0:  # else nothing is affordable: stay flat
                size = units if direction > 0 else -units
                cash -= fixed + units * entry * rate
        cash_after.append(cash)
        size_after.append(size)
    sizes = np.array(size_after, dtype=np.int64)
    if spread:
        entries = np.where(directions > 0, prices * (1 + spread), prices * (1 - spread))
    else:
        entries = prices  # price * 1.0 is the price, to the bit
    held = sizes != 0
    events = _Events(fill_bars, cash_after, sizes, np.where(held, entries, 0.0))
    return _SizedOrders(fill_bars, prices, entries, sizes, held, events)


def _fill_orders(
    bars: Bars, orders: _SizedOrders, config: Config
) -> tuple[_Events, Fills, _Fill | None]:
    """The trades of orders without stop-loss or take-profit: prices, commissions and
    trades for all orders at once, with the same arithmetic as the loop in
    `_fill_with_brackets`."""
    rate, fixed = config.commission, config.commission_fixed
    fill_bars, prices, entries, sizes, held = (
        orders.fill_bars,
        orders.prices,
        orders.entries,
        orders.sizes,
        orders.held,
    )
    opened = held[:-1].nonzero()[0]  # each closes at the next order
    closed = opened + 1
    units, entry_prices, exit_prices = np.abs(sizes[opened]), entries[opened], prices[closed]
    fills = Fills(
        entry_bar=fill_bars[opened],
        exit_bar=fill_bars[closed],
        size=sizes[opened],
        entry_price=entry_prices,
        exit_price=exit_prices,
        entry_commission=fixed + units * entry_prices * rate,
        exit_commission=fixed + units * exit_prices * rate,
        reason=_reasons(closed, len(fill_bars) - 1 if config.close_at_end else -1),
        stop_loss=[None] * len(opened),
        take_profit=[None] * len(opened),
    )
    open_fill = None
    if len(sizes) and held[-1]:
        size = int(sizes[-1])
        entry, units = float(entries[-1]), abs(size)
        open_fill = _open_fill(bars, int(fill_bars[-1]), size, entry, fixed + units * entry * rate)
    return orders.events, fills, open_fill


def _reasons(closed: np.ndarray, end_order: int) -> list[str]:
    """Exit reason per closed trade: "end" for the order that closes at the end, else "signal"."""
    return np.where(closed == end_order, "end", "signal").tolist()


def _open_fill(
    bars: Bars,
    entry_bar: int,
    size: int,
    entry_price: float,
    entry_comm: float,
    sl: float | None = None,
    tp: float | None = None,
) -> _Fill:
    """A position still open on the last bar, marked to its close."""
    last = len(bars) - 1
    close = float(bars.close[last])
    return _Fill(entry_bar, last, size, entry_price, close, entry_comm, 0.0, "open", sl, tp)


def _fill_with_brackets(
    bars: Bars, fill_bars: np.ndarray, directions: np.ndarray, config: Config
) -> tuple[_Events, Fills, _Fill | None]:
    """Fill orders, closing positions early at their stop-loss or take-profit."""
    opens = bars.open
    rate, fixed, spread = config.commission, config.commission_fixed, config.spread
    sl_pct, tp_pct = config.stop_loss, config.take_profit
    cash = config.cash
    size = 0
    entry_bar, entry_price, entry_comm = 0, 0.0, 0.0
    sl = tp = None
    fills: list[_Fill] = []
    events = _Events([], [], [], [])

    def record(bar: int) -> None:
        if events.bar and events.bar[-1] == bar:  # the last event of a bar holds at its close
            for column in events:
                column.pop()
        events.bar.append(bar)
        events.cash.append(cash)
        events.size.append(size)
        events.entry.append(entry_price if size else 0.0)

    def close_position(bar: int, price: float, reason: str) -> None:
        nonlocal cash, size
        exit_comm = fixed + abs(size) * price * rate
        cash += size * (price - entry_price) - exit_comm
        fields = (entry_bar, bar, size, entry_price, price, entry_comm, exit_comm, reason, sl, tp)
        fills.append(_new_fill(_Fill, fields))
        size = 0

    def check_brackets(until: int) -> None:
        hit = _first_exit(bars, entry_bar, until, size > 0, sl, tp)
        if hit is not None:
            bar, reason = hit
            level = sl if reason == "stop_loss" else tp
            worse = (size > 0) == (reason == "stop_loss")
            price = float(opens[bar])
            close_position(bar, min(price, level) if worse else max(price, level), reason)
            record(bar)

    orders = zip(fill_bars.tolist(), directions.tolist(), opens[fill_bars].tolist(), strict=True)
    for bar, direction, price in orders:
        if size:
            check_brackets(bar)
        if size:  # the signal exit at the open
            close_position(bar, price, "signal")
        if direction:
            adjusted = price * (1 + spread) if direction > 0 else price * (1 - spread)
            per_unit = adjusted + (fixed + FULL_EQUITY * price * rate) / FULL_EQUITY
            units = int((cash * FULL_EQUITY) // per_unit)
            if units > 0:  # else nothing is affordable: stay flat
                size = units if direction > 0 else -units
                entry_bar, entry_price = bar, adjusted
                entry_comm = fixed + units * adjusted * rate
                cash -= entry_comm
                sl, tp = _bracket_levels(entry_price, size > 0, sl_pct, tp_pct)
        record(bar)
    if size:
        check_brackets(len(bars))
    if size and config.close_at_end:
        last = len(bars) - 1
        close_position(last, float(opens[last]), "end")
        record(last)
    open_fill = _open_fill(bars, entry_bar, size, entry_price, entry_comm, sl, tp) if size else None
    return events, Fills.from_rows(fills), open_fill


def _bracket_levels(
    entry: float, long: bool, sl_pct: float | None, tp_pct: float | None
) -> tuple[float | None, float | None]:
    """Stop-loss and take-profit prices for a position entered at `entry`."""
    sl = tp = None
    if sl_pct is not None:
        sl = entry * (1 - sl_pct) if long else entry * (1 + sl_pct)
    if tp_pct is not None:
        tp = entry * (1 + tp_pct) if long else entry * (1 - tp_pct)
    return sl, tp


def _equity(close: np.ndarray, start_cash: float, events: _Events) -> np.ndarray:
    """Step the account from event to event and mark it to each close (`start_cash` before
    the first event). Each state holds from its bar until the next event's."""
    n = len(close)
    if not len(events.bar):
        return np.full(n, float(start_cash))
    starts = np.asarray(events.bar)
    lengths = np.empty_like(starts)
    lengths[:-1] = starts[1:] - starts[:-1]
    lengths[-1] = n - starts[-1]
    cash = np.asarray(events.cash).repeat(lengths)
    size = np.asarray(events.size, dtype=float).repeat(lengths)
    entry = np.asarray(events.entry).repeat(lengths)
    first = starts[0]
    equity = np.empty(n)
    equity[:first] = start_cash
    equity[first:] = cash + (close[first:] * size - size * entry)
    return equity


def _stop_when_broke(sim: Simulation, bars: Bars, config: Config) -> Simulation:
    """If equity reaches 0, close everything at that bar's close and stay at 0 (as the
    reference does), dropping what would have happened later."""
    bar = int(np.argmax(sim.equity <= 0))
    rows = sim.fills.rows()
    fills = [f for f in rows if f.exit_bar <= bar]
    held = next((f for f in rows if f.entry_bar <= bar < f.exit_bar), None)
    if held is None and sim.open_fill and sim.open_fill.entry_bar <= bar:
        held = sim.open_fill
    if held is not None:
        price = float(bars.close[bar])
        exit_comm = config.commission_fixed + abs(held.size) * price * config.commission
        fills.append(
            held._replace(exit_bar=bar, exit_price=price, exit_commission=exit_comm, reason="broke")
        )
    equity = sim.equity.copy()
    equity[bar:] = 0.0
    return Simulation(equity=equity, fills=Fills.from_rows(fills), open_fill=None)


@dataclass
class BacktestResult:
    strategy: str
    params: dict[str, Any]
    config: Config
    index: pd.DatetimeIndex = field(repr=False)
    equity_values: np.ndarray = field(repr=False)
    drawdown_values: np.ndarray = field(repr=False)  # fraction below the running peak, >= 0
    trades: list[Trade]
    open_trade: Trade | None
    stats: dict[str, Any]
    warmup: int
    engine_version: str = ENGINE_VERSION

    @cached_property
    def equity(self) -> pd.Series:
        return pd.Series(self.equity_values, index=self.index, name="equity", copy=False)

    @cached_property
    def drawdown(self) -> pd.Series:
        return pd.Series(self.drawdown_values, index=self.index, name="drawdown", copy=False)

    def trades_frame(self) -> pd.DataFrame:
        return pd.DataFrame([t.to_dict() for t in self.trades])

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable: NaN/inf become None, dates ISO strings, durations days."""
        return {
            "engine_version": self.engine_version,
            "strategy": self.strategy,
            "params": dict(self.params),
            "config": self.config.to_dict(),
            "warmup": self.warmup,
            "stats": {k: json_value(v) for k, v in self.stats.items()},
            "series": {
                "dates": _iso_dates(self.index),
                "equity": np.round(self.equity_values, 4).tolist(),
                "drawdown": np.round(self.drawdown_values, 6).tolist(),
            },
            "trades": [{k: json_value(v) for k, v in t.to_dict().items()} for t in self.trades],
            "open_trade": (
                {k: json_value(v) for k, v in self.open_trade.to_dict().items()}
                if self.open_trade
                else None
            ),
        }


def _iso_dates(index: pd.DatetimeIndex) -> list[str]:
    ns = as_ns(index)
    if index.tz is None and not (ns % NS_PER_DAY).any():  # daily bars at midnight
        days = ns.astype("datetime64[ns]").astype("datetime64[D]").astype("U10")
        return np.char.add(days, "T00:00:00").tolist()
    if index.tz is None and not (ns % 10**9).any():  # whole seconds: vectorised
        return np.datetime_as_string(ns.astype("datetime64[ns]"), unit="s").tolist()
    return [d.isoformat() for d in index]


def json_value(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value / pd.Timedelta(days=1)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _trades(fills: Fills, bars: Bars, table: TradeTable) -> list[Trade]:
    """Records of the closed trades; P&L and returns come from `table` (computed once)."""
    if not len(fills):
        return []
    entry_bar, exit_bar = fills.entry_bar.tolist(), fills.exit_bar.tolist()
    times = bars.times(np.concatenate((fills.entry_bar, fills.exit_bar)))
    rows = zip(
        fills.size.tolist(),
        entry_bar,
        exit_bar,
        times[: len(entry_bar)],
        times[len(entry_bar) :],
        fills.entry_price.tolist(),
        fills.exit_price.tolist(),
        table.pnl.tolist(),
        (table.returns * 100).tolist(),
        table.commissions.tolist(),
        fills.reason,
        fills.stop_loss,
        fills.take_profit,
        itertools.repeat(None),  # mark_time: only for an open trade
    )
    return [tuple.__new__(Trade, row) for row in rows]  # skips NamedTuple.__new__'s overhead


def _open_trade(fill: _Fill, bars: Bars) -> Trade:
    """The trade still open on the last bar, marked to its close."""
    entry_time, mark_time = bars.times([fill.entry_bar, fill.exit_bar])
    commission = fill.entry_commission + fill.exit_commission
    pnl, ret = _pnl_and_return(fill.size, fill.entry_price, fill.exit_price, commission)
    return Trade(
        fill.size,
        fill.entry_bar,
        None,
        entry_time,
        None,
        fill.entry_price,
        fill.exit_price,
        float(pnl),
        float(ret * 100),
        commission,
        fill.reason,
        fill.stop_loss,
        fill.take_profit,
        mark_time,
    )


def run_backtest(
    data: pd.DataFrame | Bars,
    strategy: str,
    params: Mapping[str, Any] | None = None,
    *,
    config: Config | None = None,
) -> BacktestResult:
    """Validate params, compute the strategy's signal, simulate fills and compute statistics.

    Raises `InvalidParams` (errors keyed by field) for bad params; `ValueError` for bad bars.
    """
    config = config or Config()
    cleaned = clean_params(strategy, params)
    bars = as_bars(data)
    signal = compute_signal(bars, strategy, cleaned, config.allow_short)
    sim = simulate(bars, signal, config)
    table = sim.trade_table()
    dd = drawdown(sim.equity)
    stats = compute_stats(
        equity=sim.equity, bars=bars, trades=table, warmup=signal.warmup, drawdown_=dd
    )
    return BacktestResult(
        strategy=strategy,
        params=cleaned,
        config=config,
        index=bars.index,
        equity_values=sim.equity,
        drawdown_values=dd,
        trades=_trades(sim.fills, bars, table),
        open_trade=_open_trade(sim.open_fill, bars) if sim.open_fill else None,
        stats=stats,
        warmup=signal.warmup,
    )
