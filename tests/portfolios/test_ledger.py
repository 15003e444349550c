"""Hand-computed ledger scenarios: every expected number is worked out in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from portfolios.ledger import LedgerError, Txn, TxnType, build_ledger, validate_txn


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def buy(on: str, symbol: str, qty: str, price: str, fees: str = "0", id: int | None = None) -> Txn:
    return Txn(
        type=TxnType.BUY,
        trade_date=day(on),
        symbol=symbol,
        quantity=D(qty),
        price=D(price),
        fees=D(fees),
        id=id,
    )


def sell(on: str, symbol: str, qty: str, price: str, fees: str = "0", id: int | None = None) -> Txn:
    return Txn(
        type=TxnType.SELL,
        trade_date=day(on),
        symbol=symbol,
        quantity=D(qty),
        price=D(price),
        fees=D(fees),
        id=id,
    )


def cash(kind: str, on: str, amount: str, symbol: str | None = None) -> Txn:
    return Txn(type=TxnType(kind), trade_date=day(on), symbol=symbol, amount=D(amount))


def split(on: str, symbol: str, ratio: str) -> Txn:
    return Txn(type=TxnType.SPLIT, trade_date=day(on), symbol=symbol, quantity=D(ratio))


# --- the issue 5 example -------------------------------------------------------------------


def test_buy_10_at_100_sell_5_at_120_leaves_5_at_average_cost_100():
    ledger = build_ledger(
        [buy("2024-01-02", "AAPL", "10", "100"), sell("2024-02-01", "AAPL", "5", "120")],
        track_cash=False,
    )
    holding = ledger.holdings["AAPL"]
    assert holding.quantity == D(5)
    assert holding.average_cost == D(100)  # not the $200 the old app showed
    assert holding.cost_basis == D(500)
    # 5 * 120 - 5 * 100 = 100
    assert ledger.realized_pnl == D(100)
    # 5 * 130 - 500 = 150
    assert holding.unrealized_pnl(D(130)) == D(150)
    assert holding.market_value(D(130)) == D(650)
    assert ledger.unrealized_pnl({"AAPL": D(130)}) == D(150)


def test_fully_sold_symbol_leaves_holdings():
    ledger = build_ledger(
        [buy("2024-01-02", "AAPL", "10", "100"), sell("2024-02-01", "AAPL", "10", "90")],
        track_cash=False,
    )
    assert ledger.holdings == {}
    assert ledger.realized_pnl == D(-100)


# --- FIFO across lots ----------------------------------------------------------------------


def fifo_ledger():
    return build_ledger(
        [
            buy("2023-01-03", "MSFT", "10", "100", fees="5"),  # lot 1: cost 1005
            buy("2023-06-01", "MSFT", "10", "110", fees="5"),  # lot 2: cost 1105
            buy("2024-01-02", "MSFT", "5", "130"),  # lot 3: cost 650
            sell("2024-02-01", "MSFT", "15", "150", fees="15"),  # proceeds 2250 - 15 = 2235
        ],
        track_cash=False,
    )


def test_sale_consumes_lots_oldest_first_and_shares_fees_by_quantity():
    ledger = fifo_ledger()
    (sale,) = ledger.sales
    assert sale.proceeds == D(2235)
    first, second = sale.rows
    # all of lot 1: proceeds 2235 * 10/15 = 1490, cost 1005, held 394 days
    assert (first.acquired, first.quantity, first.proceeds, first.cost) == (
        day("2023-01-03"),
        D(10),
        D(1490),
        D(1005),
    )
    assert first.gain == D(485)
    assert first.holding_days == 394
    assert first.term == "long"
    # half of lot 2: proceeds 2235 * 5/15 = 745, cost 1105 / 2 = 552.5, held 245 days
    assert (second.acquired, second.quantity, second.proceeds, second.cost) == (
        day("2023-06-01"),
        D(5),
        D(745),
        D("552.5"),
    )
    assert second.gain == D("192.5")
    assert second.term == "short"
    assert sale.cost == D("1557.5")
    assert ledger.realized_pnl == D("677.5")  # 485 + 192.5


def test_open_lots_after_partial_fifo_sale():
    holding = fifo_ledger().holdings["MSFT"]
    assert [(lot.acquired, lot.quantity, lot.cost) for lot in holding.lots] == [
        (day("2023-06-01"), D(5), D("552.5")),
        (day("2024-01-02"), D(5), D(650)),
    ]
    assert holding.quantity == D(10)
    assert holding.cost_basis == D("1202.5")
    # buy fees stay in the basis: (552.5 + 650) / 10
    assert holding.average_cost == D("120.25")
    assert holding.lots[0].unit_cost == D("110.5")


@pytest.mark.parametrize(
    ("sold", "days", "term"),
    [("2024-01-03", 365, "short"), ("2024-01-04", 366, "long"), ("2023-01-03", 0, "short")],
)
def test_term_is_short_up_to_365_days(sold, days, term):
    ledger = build_ledger(
        [buy("2023-01-03", "XOM", "1", "100"), sell(sold, "XOM", "1", "110")], track_cash=False
    )
    (row,) = ledger.realized_gains()
    assert row.holding_days == days
    assert row.term == term


def test_realized_gains_report_per_year():
    ledger = build_ledger(
        [
            buy("2022-05-02", "KO", "20", "60"),
            sell("2023-03-01", "KO", "5", "62"),  # 310 - 300 = 10
            sell("2023-09-01", "KO", "5", "58"),  # 290 - 300 = -10
            sell("2024-02-01", "KO", "10", "65"),  # 650 - 600 = 50
        ],
        track_cash=False,
    )
    rows_2023 = ledger.realized_gains(2023)
    assert [(r.sold, r.gain, r.term) for r in rows_2023] == [
        (day("2023-03-01"), D(10), "short"),
        (day("2023-09-01"), D(-10), "long"),
    ]
    assert [r.gain for r in ledger.realized_gains(2024)] == [D(50)]
    assert ledger.realized_gains(2021) == []
    assert ledger.realized_by_year() == {2023: D(0), 2024: D(50)}
    assert ledger.realized_pnl == D(50)


# --- splits --------------------------------------------------------------------------------


def test_split_multiplies_quantity_and_keeps_cost_basis():
    ledger = build_ledger(
        [
            # entered out of order: the split is processed before the same-day sell
            sell("2024-06-10", "NVDA", "20", "120"),
            split("2024-06-10", "NVDA", "4"),
            buy("2024-01-02", "NVDA", "10", "400", fees="4"),
        ],
        track_cash=False,
    )
    holding = ledger.holdings["NVDA"]
    # 10 * 4 = 40 shares, 20 sold; basis 4004 halves to 2002
    assert holding.quantity == D(20)
    assert holding.cost_basis == D(2002)
    assert holding.average_cost == D("100.1")  # 400.4 / 4
    (row,) = ledger.realized_gains()
    assert row.acquired == day("2024-01-02")  # the split keeps the acquisition date
    assert (row.quantity, row.proceeds, row.cost, row.gain) == (D(20), D(2400), D(2002), D(398))


def test_reverse_split():
    ledger = build_ledger(
        [buy("2024-01-02", "GE", "100", "2"), split("2024-03-01", "GE", "0.1")],
        track_cash=False,
    )
    holding = ledger.holdings["GE"]
    assert holding.quantity == D(10)
    assert holding.average_cost == D(20)
    assert holding.cost_basis == D(200)


def test_split_of_a_symbol_not_held_changes_nothing():
    ledger = build_ledger(
        [buy("2024-01-02", "GE", "100", "2"), split("2024-03-01", "F", "2")], track_cash=False
    )
    assert ledger.holdings["GE"].quantity == D(100)
    assert "F" not in ledger.holdings


# --- cash, income, fees --------------------------------------------------------------------


def income_txns() -> list[Txn]:
    return [
        cash("deposit", "2024-01-02", "10000"),
        buy("2024-01-02", "MSFT", "50", "100", fees="1"),  # cash -5001 -> 4999
        cash("dividend", "2024-03-14", "37.50", symbol="MSFT"),  # 5036.50
        cash("interest", "2024-03-31", "12.34"),  # 5048.84
        cash("fee", "2024-04-01", "25"),  # 5023.84
        cash("withdrawal", "2024-04-02", "1000"),  # 4023.84
        sell("2024-05-01", "MSFT", "20", "110", fees="1"),  # +2199 -> 6222.84
    ]


def test_cash_income_and_fees_when_tracking_cash():
    ledger = build_ledger(income_txns(), track_cash=True)
    assert ledger.cash == D("6222.84")
    assert ledger.deposits == D(10000)
    assert ledger.withdrawals == D(1000)
    assert ledger.net_external_flows == D(9000)
    assert ledger.dividends == D("37.50")
    assert ledger.dividends_by_symbol == {"MSFT": D("37.50")}
    assert ledger.interest == D("12.34")
    assert ledger.income == D("49.84")
    assert ledger.fee_charges == D(25)
    assert ledger.trade_fees == D(2)
    assert ledger.fees_total == D(27)
    # sold 20 of the 50-share lot costing 5001: cost 2000.4, proceeds 2199
    assert ledger.realized_pnl == D("198.6")
    holding = ledger.holdings["MSFT"]
    assert holding.cost_basis == D("3000.6")
    assert holding.average_cost == D("100.02")
    prices = {"MSFT": D(120)}
    assert ledger.unrealized_pnl(prices) == D("599.4")  # 3600 - 3000.6
    assert ledger.total_value(prices) == D("9822.84")  # 3600 + 6222.84
    # 9822.84 - 9000 = 198.6 + 599.4 + 49.84 - 25
    assert ledger.total_gain(prices) == D("822.84")


def test_without_cash_tracking_every_cash_movement_is_an_external_flow():
    ledger = build_ledger(income_txns(), track_cash=False)
    assert ledger.cash == D(0)
    # buys 5001 in; sells 2199, dividend 37.50, interest 12.34 out; the fee 25 in;
    # deposits and withdrawals ignored
    assert ledger.net_external_flows == D("2777.16")
    # the same total gain as with cash tracked: 3600 - 2777.16
    assert ledger.total_gain({"MSFT": D(120)}) == D("822.84")


def test_same_day_deposit_entered_after_the_buy_still_funds_it():
    ledger = build_ledger(
        [buy("2024-01-02", "AAPL", "10", "100", fees="1"), cash("deposit", "2024-01-02", "1001")],
        track_cash=True,
    )
    assert ledger.cash == D(0)


def test_same_day_sale_funds_a_purchase():
    # cash is checked at the end of each day, so rotating AAPL into MSFT needs no extra cash
    ledger = build_ledger(
        [
            cash("deposit", "2024-01-02", "1000"),
            buy("2024-01-02", "AAPL", "10", "100"),
            buy("2024-02-01", "MSFT", "4", "250"),
            sell("2024-02-01", "AAPL", "10", "100"),
        ],
        track_cash=True,
    )
    assert ledger.cash == D(0)
    assert list(ledger.holdings) == ["MSFT"]


def test_same_day_round_trip_buy_is_processed_before_sell():
    ledger = build_ledger(
        [sell("2024-01-02", "TSLA", "5", "210"), buy("2024-01-02", "TSLA", "5", "200")],
        track_cash=False,
    )
    assert ledger.realized_pnl == D(50)
    assert ledger.holdings == {}


def test_ids_order_transactions_of_the_same_type_and_day():
    txns = [
        buy("2024-01-02", "AAPL", "1", "100", id=2),
        buy("2024-01-02", "AAPL", "1", "90", id=1),
        sell("2024-01-03", "AAPL", "1", "95", id=3),
    ]
    ledger = build_ledger(txns, track_cash=False)
    # id 1 (the 90 lot) is first in line, so the sale realizes 95 - 90
    assert ledger.realized_pnl == D(5)
    assert [t.id for t in ledger.txns] == [1, 2, 3]


# --- errors --------------------------------------------------------------------------------


def test_selling_more_than_held_names_the_transaction():
    txns = [buy("2024-01-02", "AAPL", "10", "100"), sell("2024-03-01", "AAPL", "15", "120")]
    with pytest.raises(LedgerError, match=r"^Sell of 15 AAPL on 2024-03-01 exceeds the 10 held$"):
        build_ledger(txns, track_cash=False)


def test_selling_a_symbol_never_bought():
    with pytest.raises(LedgerError, match="Sell of 1 IBM on 2024-03-01 exceeds the 0 held") as err:
        build_ledger([sell("2024-03-01", "IBM", "1", "120", id=7)], track_cash=False)
    assert err.value.txn.id == 7


def test_buy_without_cash_overdraws():
    txns = [cash("deposit", "2024-01-02", "500"), buy("2024-03-01", "AAPL", "10", "100", "5")]
    with pytest.raises(
        LedgerError,
        match=r"^Buy of 10 AAPL on 2024-03-01 needs \$1,005.00 cash but leaves the balance at "
        "\u2212"
        r"\$505.00 at the end of the day$",  # money as the pages show it
    ):
        build_ledger(txns, track_cash=True)
    # without cash tracking the same buy is simply an inflow
    assert build_ledger(txns, track_cash=False).net_external_flows == D(1005)


def test_withdrawal_beyond_cash_overdraws():
    txns = [cash("deposit", "2024-01-02", "500"), cash("withdrawal", "2024-01-03", "500.01")]
    with pytest.raises(LedgerError, match=r"^Withdrawal of \$500.01 on 2024-01-03 needs \$500.01"):
        build_ledger(txns, track_cash=True)


def base(**overrides) -> Txn:
    fields = {
        "type": TxnType.BUY,
        "trade_date": day("2024-01-02"),
        "symbol": "AAPL",
        "quantity": D(1),
        "price": D(100),
    }
    return Txn(**(fields | overrides))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"quantity": D(0)}, "quantity of buy on 2024-01-02 must be positive, got 0"),
        ({"quantity": D(-3)}, "quantity of buy on 2024-01-02 must be positive, got -3"),
        ({"type": TxnType.SELL, "quantity": D(0)}, "quantity of sell on 2024-01-02 must be"),
        ({"price": D(-1)}, "price of buy on 2024-01-02 must not be negative"),
        ({"fees": D("-0.01")}, "fees of buy on 2024-01-02 must not be negative"),
        ({"quantity": 1.5}, "quantity of buy on 2024-01-02 must be a finite Decimal, got 1.5"),
        ({"price": D("NaN")}, "price of buy on 2024-01-02 must be a finite Decimal"),
        ({"symbol": None}, "symbol is required for a buy on 2024-01-02"),
        ({"symbol": ""}, "symbol is required for a buy on 2024-01-02"),
        ({"trade_date": "2024-01-02"}, "trade_date of buy on 2024-01-02 must be a date"),
        ({"type": TxnType.SPLIT, "quantity": D(0)}, "quantity \\(split ratio\\) of split"),
        ({"type": TxnType.DEPOSIT, "symbol": None}, "amount of deposit on 2024-01-02 must be"),
        ({"type": TxnType.DIVIDEND, "amount": D(5), "symbol": None}, "symbol is required"),
        ({"type": TxnType.FEE, "amount": D(5), "fees": D(1)}, "fees of fee on 2024-01-02 must"),
    ],
)
def test_validate_txn_names_the_bad_field(overrides, message):
    txn = base(**overrides)
    with pytest.raises(LedgerError, match=message) as err:
        validate_txn(txn)
    assert err.value.txn is txn
    assert err.value.field == message.split(" ", 1)[0]  # the field, not parsed from English
    with pytest.raises(LedgerError, match=message):
        build_ledger([txn], track_cash=False)


def test_validate_txn_accepts_good_transactions_and_coerces_strings_and_ints():
    txn = Txn(type="BUY", trade_date=day("2024-01-02"), symbol="AAPL", quantity=3, price="9.99")
    assert txn.type is TxnType.BUY
    assert (txn.quantity, txn.price) == (D(3), D("9.99"))
    assert validate_txn(txn) is None
    assert validate_txn(cash("interest", "2024-01-02", "0.01")) is None


def test_unknown_type_is_rejected():
    with pytest.raises(LedgerError, match="Unknown transaction type 'transfer'"):
        Txn(type="transfer", trade_date=day("2024-01-02"))


def test_missing_price_for_a_holding():
    ledger = build_ledger([buy("2024-01-02", "AAPL", "1", "100")], track_cash=False)
    with pytest.raises(LedgerError, match="No price for AAPL"):
        ledger.market_value({"MSFT": D(1)})


def test_unparseable_text_and_missing_type_are_named():
    with pytest.raises(LedgerError, match="quantity of buy on 2024-01-02 must be a finite Decimal"):
        build_ledger([base(quantity="ten")], track_cash=False)
    with pytest.raises(LedgerError, match="Unknown transaction type None"):
        build_ledger([base(), base(type=None)], track_cash=False)


def test_history_errors_carry_the_field_they_are_about():
    buy = base()
    sell = base(type=TxnType.SELL, quantity=D(2), trade_date=day("2024-01-03"))
    with pytest.raises(LedgerError) as err:
        build_ledger([buy, sell], track_cash=False)
    assert (err.value.field, err.value.txn) == ("quantity", sell)
    withdrawal = Txn(type=TxnType.WITHDRAWAL, trade_date=day("2024-01-02"), amount=D(5))
    with pytest.raises(LedgerError) as err:
        build_ledger([withdrawal], track_cash=True)
    assert (err.value.field, err.value.txn) == ("amount", withdrawal)
    with pytest.raises(LedgerError) as err:
        build_ledger([buy], track_cash=True)  # no cash for the buy
    assert err.value.field == "quantity"
