"""Ledger invariants over random valid transaction histories (hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from portfolios.ledger import ZERO, Ledger, Txn, TxnType, build_ledger, sort_key

START = dt.date(2022, 1, 3)
SYMBOLS = ["AAA", "BBB", "CCC"]
KINDS = ["buy", "buy", "buy", "sell", "sell", "split", "dividend", "interest", "fee", "withdrawal"]
RATIOS = [D(2), D(3), D("0.5")]
TOLERANCE = D("1e-12")
cents = st.integers(min_value=1, max_value=100_000).map(lambda c: D(c) / 100)


@st.composite
def histories(draw) -> list[Txn]:
    """A valid history: generated freely, then replayed in processing order so sells never
    exceed holdings; a large opening deposit keeps cash positive when it is tracked."""
    raw = [Txn(type=TxnType.DEPOSIT, trade_date=START, amount=D(10**9), id=0)]
    for i in range(1, draw(st.integers(min_value=1, max_value=30)) + 1):
        kind = TxnType(draw(st.sampled_from(KINDS)))
        on = START + dt.timedelta(days=draw(st.integers(min_value=0, max_value=900)))
        symbol = draw(st.sampled_from(SYMBOLS))
        if kind in (TxnType.BUY, TxnType.SELL):
            qty = D(draw(st.integers(min_value=1, max_value=200)))
            fees = D(draw(st.integers(min_value=0, max_value=999))) / 100
            txn = Txn(
                type=kind,
                trade_date=on,
                symbol=symbol,
                quantity=qty,
                price=draw(cents),
                fees=fees,
                id=i,
            )
        elif kind is TxnType.SPLIT:
            ratio = draw(st.sampled_from(RATIOS))
            txn = Txn(type=kind, trade_date=on, symbol=symbol, quantity=ratio, id=i)
        else:
            sym = symbol if kind is TxnType.DIVIDEND else None
            txn = Txn(type=kind, trade_date=on, symbol=sym, amount=draw(cents), id=i)
        raw.append(txn)
    return _make_sells_valid(sorted(raw, key=sort_key))


def _make_sells_valid(ordered: list[Txn]) -> list[Txn]:
    held = dict.fromkeys(SYMBOLS, ZERO)
    valid = []
    for txn in ordered:
        if txn.type is TxnType.SELL:
            if held[txn.symbol] == 0:
                continue
            txn = Txn(**(vars(txn) | {"quantity": min(txn.quantity, held[txn.symbol])}))
            held[txn.symbol] -= txn.quantity
        elif txn.type is TxnType.BUY:
            held[txn.symbol] += txn.quantity
        elif txn.type is TxnType.SPLIT:
            held[txn.symbol] *= txn.quantity
        valid.append(txn)
    return valid


def expected_quantities(txns: list[Txn]) -> dict[str, D]:
    held = dict.fromkeys(SYMBOLS, ZERO)
    for txn in sorted(txns, key=sort_key):
        if txn.type is TxnType.BUY:
            held[txn.symbol] += txn.quantity
        elif txn.type is TxnType.SELL:
            held[txn.symbol] -= txn.quantity
        elif txn.type is TxnType.SPLIT:
            held[txn.symbol] *= txn.quantity
    return {s: q for s, q in held.items() if q}


prices = st.fixed_dictionaries({s: cents for s in SYMBOLS})


@given(txns=histories(), track_cash=st.booleans())
def test_open_quantity_is_the_sum_of_open_lots_and_matches_the_trades(txns, track_cash):
    ledger = build_ledger(txns, track_cash=track_cash)
    for holding in ledger.holdings.values():
        assert holding.quantity == sum(lot.quantity for lot in holding.lots)
        assert all(lot.quantity > 0 for lot in holding.lots)
        assert [lot.acquired for lot in holding.lots] == sorted(
            lot.acquired for lot in holding.lots
        )
    assert {s: h.quantity for s, h in ledger.holdings.items()} == expected_quantities(txns)


@given(txns=histories(), track_cash=st.booleans(), marks=prices)
def test_pnl_parts_add_up_to_total_gain(txns, track_cash, marks):
    """realized + unrealized + dividends + interest - fee charges
    == market value + cash - net external flows (Ledger.total_gain)."""
    ledger = build_ledger(txns, track_cash=track_cash)
    parts = (
        ledger.realized_pnl
        + ledger.unrealized_pnl(marks)
        + ledger.dividends
        + ledger.interest
        - ledger.fee_charges
    )
    assert abs(parts - ledger.total_gain(marks)) <= TOLERANCE


@given(txns=histories(), marks=prices)
def test_total_gain_does_not_depend_on_cash_tracking(txns, marks):
    tracked = build_ledger(txns, track_cash=True).total_gain(marks)
    untracked = build_ledger(txns, track_cash=False).total_gain(marks)
    assert abs(tracked - untracked) <= TOLERANCE


@given(txns=histories())
def test_cost_is_conserved_between_open_lots_and_sales(txns):
    ledger = build_ledger(txns, track_cash=False)
    bought = sum(t.gross + t.fees for t in txns if t.type is TxnType.BUY)
    sold_cost = sum(sale.cost for sale in ledger.sales)
    assert abs(bought - sold_cost - ledger.cost_basis) <= TOLERANCE
    for sale in ledger.sales:
        assert sum(row.proceeds for row in sale.rows) == sale.proceeds
        assert sum(row.quantity for row in sale.rows) == sale.txn.quantity


@given(txns=histories())
def test_cash_is_the_sum_of_its_movements(txns):
    ledger = build_ledger(txns, track_cash=True)
    buys = sum(t.gross + t.fees for t in txns if t.type is TxnType.BUY)
    sells = sum(t.gross - t.fees for t in txns if t.type is TxnType.SELL)
    expected = (
        ledger.deposits
        - ledger.withdrawals
        - buys
        + sells
        + ledger.dividends
        + ledger.interest
        - ledger.fee_charges
    )
    assert ledger.cash == expected
    assert ledger.cash >= 0


@settings(max_examples=50)
@given(data=st.data())
def test_entry_order_does_not_matter(data):
    txns = data.draw(histories())
    shuffled = data.draw(st.permutations(txns))
    assert build_ledger(shuffled, track_cash=True) == build_ledger(txns, track_cash=True)


@given(
    lots=st.lists(st.tuples(st.integers(1, 100), cents, cents), min_size=1, max_size=5),
    ratio=st.sampled_from([D(2), D(4), D(5), D(10)]),
    sell_price=cents,
    fraction=st.fractions(min_value=0, max_value=1),
)
def test_split_then_sell_equals_sell_at_the_adjusted_price(lots, ratio, sell_price, fraction):
    buys = [
        Txn(
            type=TxnType.BUY,
            trade_date=START + dt.timedelta(days=i),
            symbol="AAA",
            quantity=D(q),
            price=p,
            fees=f,
            id=i,
        )
        for i, (q, p, f) in enumerate(lots)
    ]
    total = sum(D(q) for q, _, _ in lots)
    qty = max(D(int(total * fraction.numerator / fraction.denominator)), D(1))
    later = START + dt.timedelta(days=400)
    before = _sell_after(buys, later, qty, sell_price)
    split = Txn(type=TxnType.SPLIT, trade_date=later, symbol="AAA", quantity=ratio, id=98)
    after = _sell_after([*buys, split], later, qty * ratio, sell_price / ratio)
    assert abs(before.realized_pnl - after.realized_pnl) <= TOLERANCE
    assert abs(before.cost_basis - after.cost_basis) <= TOLERANCE
    held_before = before.holdings.get("AAA")
    held_after = after.holdings.get("AAA")
    assert (held_before.quantity * ratio if held_before else 0) == (
        held_after.quantity if held_after else 0
    )


def _sell_after(txns: list[Txn], on: dt.date, qty: D, price: D) -> Ledger:
    sale = Txn(type=TxnType.SELL, trade_date=on, symbol="AAA", quantity=qty, price=price, id=99)
    return build_ledger([*txns, sale], track_cash=False)
