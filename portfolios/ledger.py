"""The one portfolio ledger: every holding, P&L, cash and income figure comes from here.

Plain functions and frozen dataclasses over `Decimal`; no Django import. Pages, the API,
commands and `portfolios.performance` all call `build_ledger()` and read its `Ledger`.
The definitions are in docs/portfolio-maths.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

ZERO = Decimal(0)
SHORT_TERM_MAX_DAYS = 365


class LedgerError(ValueError):
    """A transaction that the ledger cannot accept.

    `txn` is the offending one (if any); `field` the Txn field the error is about ("quantity",
    "amount", …), or None when it is about the history as a whole.
    """

    def __init__(self, message: str, txn: Txn | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.txn = txn
        self.field = field


class TxnType(StrEnum):
    BUY = "buy"
    SELL = "sell"
    DIVIDEND = "dividend"
    FEE = "fee"
    INTEREST = "interest"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    SPLIT = "split"


# Order within one trade date: money arrives, splits take effect at the open (so same-day trade
# prices are post-split), then buys, then sells (a same-day round trip works), then money leaves.
TYPE_ORDER: dict[TxnType, int] = {
    TxnType.DEPOSIT: 0,
    TxnType.SPLIT: 1,
    TxnType.DIVIDEND: 2,
    TxnType.INTEREST: 3,
    TxnType.BUY: 4,
    TxnType.SELL: 5,
    TxnType.FEE: 6,
    TxnType.WITHDRAWAL: 7,
}
TRADE_TYPES = frozenset({TxnType.BUY, TxnType.SELL})
SYMBOL_TYPES = frozenset({TxnType.BUY, TxnType.SELL, TxnType.SPLIT, TxnType.DIVIDEND})
AMOUNT_TYPES = frozenset(
    {TxnType.DIVIDEND, TxnType.FEE, TxnType.INTEREST, TxnType.DEPOSIT, TxnType.WITHDRAWAL}
)


@dataclass(frozen=True, kw_only=True)
class Txn:
    """One transaction as the trader entered it.

    buy/sell: `quantity` shares at `price`, plus `fees` (commission). split: `quantity` is the
    ratio (4 for a 4-for-1, Decimal("0.1") for a 1-for-10). dividend/fee/interest/deposit/
    withdrawal: `amount` (positive); fee and interest may name a symbol, a dividend must.
    """

    type: TxnType
    trade_date: dt.date
    symbol: str | None = None
    quantity: Decimal = ZERO
    price: Decimal = ZERO
    fees: Decimal = ZERO
    amount: Decimal = ZERO
    id: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.type, str) and not isinstance(self.type, TxnType):
            try:
                object.__setattr__(self, "type", TxnType(self.type.lower()))
            except ValueError:
                raise LedgerError(f"Unknown transaction type {self.type!r}") from None
        for name in ("quantity", "price", "fees", "amount"):
            value = getattr(self, name)
            if isinstance(value, int | str) and not isinstance(value, bool):
                # unparseable text is left as given; validate_txn names the field
                with suppress(InvalidOperation):
                    object.__setattr__(self, name, Decimal(value))

    @property
    def gross(self) -> Decimal:
        """quantity * price, before fees (buy/sell only)."""
        return self.quantity * self.price

    def describe(self) -> str:
        """'Sell of 15 AAPL on 2024-03-01' / 'Deposit of $500.00 on 2024-03-01'."""
        kind = self.type.value.capitalize()
        if self.type in TRADE_TYPES:
            return f"{kind} of {fmt_qty(self.quantity)} {self.symbol} on {self.trade_date}"
        if self.type is TxnType.SPLIT:
            return f"Split {fmt_qty(self.quantity)}-for-1 of {self.symbol} on {self.trade_date}"
        what = f" ({self.symbol})" if self.symbol else ""
        return f"{kind} of {fmt_money(self.amount)}{what} on {self.trade_date}"


def sort_key(txn: Txn) -> tuple[dt.date, int, bool, int]:
    """Processing order: trade date, then TYPE_ORDER, then id (id-less last, in entry order)."""
    return (txn.trade_date, TYPE_ORDER[txn.type], txn.id is None, txn.id or 0)


def fmt_qty(q: Decimal) -> str:
    text = format(q.normalize(), "f")
    return text


def fmt_money(x: Decimal) -> str:
    """Money in a message, as the pages show it (the site's rule, qunex/templatetags/numbers):
    1000 -> "$1,000.00", -500 -> "\u2212$500.00", rounded half away from zero."""
    cents = Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return ("\u2212" if cents < 0 else "") + f"${abs(cents):,.2f}"


def validate_txn(txn: Txn) -> None:
    """Raise LedgerError naming the first bad field of `txn`; return None when it is usable."""
    where = f"{txn.type.value} on {txn.trade_date}" if isinstance(txn.type, TxnType) else "txn"
    if not isinstance(txn.type, TxnType):
        raise LedgerError(f"Unknown transaction type {txn.type!r}", txn, field="type")
    if not isinstance(txn.trade_date, dt.date) or isinstance(txn.trade_date, dt.datetime):
        raise LedgerError(
            f"trade_date of {where} must be a date, got {txn.trade_date!r}", txn, field="trade_date"
        )
    for name in ("quantity", "price", "fees", "amount"):
        value = getattr(txn, name)
        if not isinstance(value, Decimal) or not value.is_finite():
            raise LedgerError(
                f"{name} of {where} must be a finite Decimal, got {value!r}", txn, field=name
            )
    if txn.type in SYMBOL_TYPES and not txn.symbol:
        raise LedgerError(f"symbol is required for a {where}", txn, field="symbol")
    if txn.fees < 0:
        raise LedgerError(
            f"fees of {where} must not be negative, got {txn.fees}", txn, field="fees"
        )
    if txn.type in TRADE_TYPES:
        if txn.quantity <= 0:
            raise LedgerError(
                f"quantity of {where} must be positive, got {txn.quantity}", txn, field="quantity"
            )
        if txn.price < 0:
            raise LedgerError(
                f"price of {where} must not be negative, got {txn.price}", txn, field="price"
            )
        return
    if txn.fees != 0:
        raise LedgerError(
            f"fees of {where} must be 0; record a separate fee transaction", txn, field="fees"
        )
    if txn.type is TxnType.SPLIT:
        if txn.quantity <= 0:
            raise LedgerError(
                f"quantity (split ratio) of {where} must be positive", txn, field="quantity"
            )
        return
    if txn.amount <= 0:
        raise LedgerError(
            f"amount of {where} must be positive, got {txn.amount}", txn, field="amount"
        )


def cash_delta(txn: Txn) -> Decimal:
    """How `txn` changes the cash balance: buys -(qty*price+fees), sells +(qty*price-fees), ..."""
    match txn.type:
        case TxnType.BUY:
            return -(txn.gross + txn.fees)
        case TxnType.SELL:
            return txn.gross - txn.fees
        case TxnType.DEPOSIT | TxnType.DIVIDEND | TxnType.INTEREST:
            return txn.amount
        case TxnType.WITHDRAWAL | TxnType.FEE:
            return -txn.amount
        case _:
            return ZERO


def external_flow(txn: Txn, *, track_cash: bool) -> Decimal:
    """Money the trader puts into the portfolio (+) or takes out (-) with `txn`.

    Tracking cash, the portfolio is holdings + cash and only deposits/withdrawals cross its
    boundary. Not tracking cash, the portfolio is the holdings alone, so every cash movement
    crosses it: a buy is an inflow, a sell, dividend or interest an outflow, a fee an inflow;
    deposits and withdrawals are ignored.
    """
    if track_cash:
        if txn.type is TxnType.DEPOSIT:
            return txn.amount
        if txn.type is TxnType.WITHDRAWAL:
            return -txn.amount
        return ZERO
    if txn.type in (TxnType.DEPOSIT, TxnType.WITHDRAWAL):
        return ZERO
    return -cash_delta(txn)


@dataclass(frozen=True)
class Lot:
    """Shares bought together; `cost` is the total cost basis including the buy's fees."""

    symbol: str
    acquired: dt.date
    quantity: Decimal
    cost: Decimal
    txn_id: int | None = None

    @property
    def unit_cost(self) -> Decimal:
        return self.cost / self.quantity


@dataclass(frozen=True)
class Holding:
    symbol: str
    lots: tuple[Lot, ...]

    @property
    def quantity(self) -> Decimal:
        return sum((lot.quantity for lot in self.lots), ZERO)

    @property
    def cost_basis(self) -> Decimal:
        return sum((lot.cost for lot in self.lots), ZERO)

    @property
    def average_cost(self) -> Decimal:
        """Cost basis of the open lots per open share (buy fees included)."""
        return self.cost_basis / self.quantity

    def market_value(self, price: Decimal) -> Decimal:
        return self.quantity * price

    def unrealized_pnl(self, price: Decimal) -> Decimal:
        return self.market_value(price) - self.cost_basis


@dataclass(frozen=True)
class RealizedGain:
    """One row of the realized-gains report: the part of one lot closed by one sale."""

    symbol: str
    acquired: dt.date
    sold: dt.date
    quantity: Decimal
    proceeds: Decimal
    cost: Decimal

    @property
    def gain(self) -> Decimal:
        return self.proceeds - self.cost

    @property
    def holding_days(self) -> int:
        return (self.sold - self.acquired).days

    @property
    def term(self) -> str:
        """'short' when held 365 days or fewer, else 'long'."""
        return "short" if self.holding_days <= SHORT_TERM_MAX_DAYS else "long"


@dataclass(frozen=True)
class Sale:
    """One sell transaction and the FIFO lots it closed."""

    txn: Txn
    rows: tuple[RealizedGain, ...]

    @property
    def proceeds(self) -> Decimal:
        return self.txn.gross - self.txn.fees

    @property
    def cost(self) -> Decimal:
        return sum((row.cost for row in self.rows), ZERO)

    @property
    def gain(self) -> Decimal:
        return self.proceeds - self.cost


@dataclass(frozen=True)
class Ledger:
    """Everything `build_ledger` knows after replaying the transactions.

    `cash` is the cash balance when cash is tracked and 0 otherwise (the portfolio is then the
    holdings alone). `net_external_flows` is the money the trader put in, net (see
    `external_flow`). `fee_charges` are fee transactions; `trade_fees` are buy/sell
    commissions, already inside cost basis and proceeds.
    """

    txns: tuple[Txn, ...]
    track_cash: bool
    holdings: dict[str, Holding]
    sales: tuple[Sale, ...]
    cash: Decimal
    net_external_flows: Decimal
    deposits: Decimal
    withdrawals: Decimal
    dividends: Decimal
    interest: Decimal
    fee_charges: Decimal
    trade_fees: Decimal
    dividends_by_symbol: dict[str, Decimal] = field(default_factory=dict)

    @property
    def income(self) -> Decimal:
        return self.dividends + self.interest

    @property
    def fees_total(self) -> Decimal:
        return self.fee_charges + self.trade_fees

    @property
    def realized_pnl(self) -> Decimal:
        return sum((sale.gain for sale in self.sales), ZERO)

    @property
    def cost_basis(self) -> Decimal:
        return sum((h.cost_basis for h in self.holdings.values()), ZERO)

    def realized_gains(self, year: int | None = None) -> list[RealizedGain]:
        """Report rows in sale order, for sales in `year` (all years when None)."""
        rows = [row for sale in self.sales for row in sale.rows]
        return [row for row in rows if year is None or row.sold.year == year]

    def realized_by_year(self) -> dict[int, Decimal]:
        totals: dict[int, Decimal] = {}
        for row in self.realized_gains():
            totals[row.sold.year] = totals.get(row.sold.year, ZERO) + row.gain
        return totals

    def market_values(self, prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
        return {s: h.market_value(_price(prices, s)) for s, h in self.holdings.items()}

    def market_value(self, prices: Mapping[str, Decimal]) -> Decimal:
        return sum(self.market_values(prices).values(), ZERO)

    def unrealized_pnl(self, prices: Mapping[str, Decimal]) -> Decimal:
        return self.market_value(prices) - self.cost_basis

    def total_value(self, prices: Mapping[str, Decimal]) -> Decimal:
        return self.market_value(prices) + self.cash

    def total_gain(self, prices: Mapping[str, Decimal]) -> Decimal:
        """Market value + cash - net external flows.

        Equals realized + unrealized + dividends + interest - fee_charges.
        """
        return self.total_value(prices) - self.net_external_flows


def _price(prices: Mapping[str, Decimal], symbol: str) -> Decimal:
    try:
        return prices[symbol]
    except KeyError:
        raise LedgerError(f"No price for {symbol}") from None


@dataclass
class _State:
    lots: dict[str, list[Lot]] = field(default_factory=dict)
    sales: list[Sale] = field(default_factory=list)
    cash: Decimal = ZERO
    totals: dict[str, Decimal] = field(default_factory=dict)
    dividends_by_symbol: dict[str, Decimal] = field(default_factory=dict)

    def add(self, name: str, value: Decimal) -> None:
        self.totals[name] = self.totals.get(name, ZERO) + value


def build_ledger(txns: Iterable[Txn], *, track_cash: bool) -> Ledger:
    """Replay `txns` into holdings, realized sales, cash and totals.

    1. Validate every transaction, then sort by `sort_key` (entry order does not matter).
    2. Buys open a FIFO lot whose cost is qty*price + fees; sells close the oldest lots first,
       each closed part becoming a RealizedGain row (sale fees shared by quantity).
    3. Splits multiply open lot quantities by the ratio; cost basis is unchanged.
    4. Cash moves by `cash_delta`; with `track_cash`, cash must be ≥ 0 at the end of each trade
       date (a sale funds a purchase on the same day).
    """
    txns = list(txns)
    for txn in txns:
        validate_txn(txn)
    ordered = sorted(txns, key=sort_key)
    state = _State()
    day_overdraft: Txn | None = None
    for i, txn in enumerate(ordered):
        _apply(state, txn)
        if track_cash and state.cash < 0 and day_overdraft is None and cash_delta(txn) < 0:
            day_overdraft = txn
        elif state.cash >= 0:
            day_overdraft = None
        last_of_day = i + 1 == len(ordered) or ordered[i + 1].trade_date != txn.trade_date
        if last_of_day and day_overdraft is not None:
            raise LedgerError(
                f"{day_overdraft.describe()} needs {fmt_money(-cash_delta(day_overdraft))} cash"
                f" but leaves the balance at {fmt_money(state.cash)} at the end of the day",
                day_overdraft,
                field="quantity" if day_overdraft.type in TRADE_TYPES else "amount",
            )
    t = state.totals
    flows = sum((external_flow(txn, track_cash=track_cash) for txn in ordered), ZERO)
    return Ledger(
        txns=tuple(ordered),
        track_cash=track_cash,
        holdings={
            s: Holding(symbol=s, lots=tuple(lots)) for s, lots in sorted(state.lots.items()) if lots
        },
        sales=tuple(state.sales),
        cash=state.cash if track_cash else ZERO,
        net_external_flows=flows,
        deposits=t.get("deposit", ZERO),
        withdrawals=t.get("withdrawal", ZERO),
        dividends=t.get("dividend", ZERO),
        interest=t.get("interest", ZERO),
        fee_charges=t.get("fee", ZERO),
        trade_fees=t.get("trade_fees", ZERO),
        dividends_by_symbol=dict(sorted(state.dividends_by_symbol.items())),
    )


def _apply(state: _State, txn: Txn) -> None:
    state.cash += cash_delta(txn)
    match txn.type:
        case TxnType.BUY:
            lot = Lot(txn.symbol, txn.trade_date, txn.quantity, txn.gross + txn.fees, txn.id)
            state.lots.setdefault(txn.symbol, []).append(lot)
            state.add("trade_fees", txn.fees)
        case TxnType.SELL:
            state.sales.append(_sell(state.lots.get(txn.symbol, []), txn))
            state.add("trade_fees", txn.fees)
        case TxnType.SPLIT:
            lots = state.lots.get(txn.symbol, [])
            lots[:] = [replace(lot, quantity=lot.quantity * txn.quantity) for lot in lots]
        case TxnType.DIVIDEND:
            state.add("dividend", txn.amount)
            by_symbol = state.dividends_by_symbol
            by_symbol[txn.symbol] = by_symbol.get(txn.symbol, ZERO) + txn.amount
        case _:
            state.add(txn.type.value, txn.amount)


_ALLOCATION_QUANTUM = Decimal("1e-12")


def _sell(lots: list[Lot], txn: Txn) -> Sale:
    """Close FIFO lots for `txn` in place; return the Sale with one row per lot touched."""
    held = sum((lot.quantity for lot in lots), ZERO)
    if txn.quantity > held:
        raise LedgerError(
            f"{txn.describe()} exceeds the {fmt_qty(held)} held", txn, field="quantity"
        )
    proceeds = txn.gross - txn.fees
    remaining = txn.quantity
    proceeds_left = proceeds
    rows: list[RealizedGain] = []
    while remaining > 0:
        lot = lots[0]
        take = min(remaining, lot.quantity)
        remaining -= take
        if take == lot.quantity:
            cost = lot.cost
            lots.pop(0)
        else:
            cost = lot.cost * take / lot.quantity
            lots[0] = replace(lot, quantity=lot.quantity - take, cost=lot.cost - cost)
        # Shares are quantized so the subtraction below is exact; the last row takes what is
        # left, so the rows add up to the sale's proceeds exactly.
        share = (
            proceeds_left
            if remaining == 0
            else (proceeds * take / txn.quantity).quantize(_ALLOCATION_QUANTUM)
        )
        proceeds_left -= share
        rows.append(RealizedGain(txn.symbol, lot.acquired, txn.trade_date, take, share, cost))
    return Sale(txn=txn, rows=tuple(rows))
