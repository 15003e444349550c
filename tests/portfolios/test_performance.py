"""Performance maths on hand-computed series; expected numbers are worked out in comments."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal as D

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolios.ledger import Txn, TxnType, build_ledger
from portfolios.performance import (
    allocation_by_holding,
    allocation_by_sector,
    annualise,
    benchmark_values,
    daily_values,
    max_drawdown,
    period_cash_flows,
    period_returns,
    period_start,
    period_twr,
    portfolio_drawdown,
    twr_index,
    twr_returns,
    why_twr_differs,
    xirr,
)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def trade(kind: str, on: str, symbol: str, qty: str, price: str) -> Txn:
    return Txn(
        type=TxnType(kind), trade_date=day(on), symbol=symbol, quantity=D(qty), price=D(price)
    )


def money(kind: str, on: str, amount: str) -> Txn:
    return Txn(type=TxnType(kind), trade_date=day(on), amount=D(amount))


def table(rows: dict[str, list[float]], dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=pd.to_datetime(dates))


# --- periods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "as_of", "start"),
    [
        ("1M", "2024-03-31", "2024-02-29"),  # clamped to the shorter month
        ("1M", "2024-05-15", "2024-04-15"),
        ("3M", "2024-03-31", "2023-12-31"),
        ("3M", "2024-01-15", "2023-10-15"),
        ("YTD", "2024-03-31", "2023-12-31"),
        ("1Y", "2024-02-29", "2023-02-28"),
        ("1Y", "2024-06-03", "2023-06-03"),
    ],
)
def test_period_start(period, as_of, start):
    assert period_start(period, day(as_of)) == day(start)


def test_period_start_max_and_unknown():
    assert period_start("Max", day("2024-03-31")) is None
    with pytest.raises(ValueError, match="Unknown period '5Y'"):
        period_start("5Y", day("2024-03-31"))


# --- XIRR ----------------------------------------------------------------------------------


def test_xirr_matches_the_excel_documentation_example():
    flows = [
        (day("2008-01-01"), -10000),
        (day("2008-03-01"), 2750),
        (day("2008-10-30"), 4250),
        (day("2009-02-15"), 3250),
        (day("2009-04-01"), 2750),
    ]
    assert xirr(flows) == pytest.approx(0.373362535, abs=1e-8)
    # entry order and Decimal amounts make no difference
    assert xirr([(d, D(a)) for d, a in reversed(flows)]) == pytest.approx(0.373362535, abs=1e-8)


def test_xirr_simple_year():
    # -1000 then +1100 exactly 365 days later: 10%
    assert xirr([(day("2023-01-01"), -1000), (day("2024-01-01"), 1100)]) == pytest.approx(0.1)
    # a loss of 99.9999% still solves (root near -1)
    assert xirr([(day("2023-01-01"), -100), (day("2024-01-01"), 0.0001)]) == pytest.approx(
        -0.999999, abs=1e-5
    )


def test_xirr_none_without_a_sign_change():
    assert xirr([(day("2023-01-01"), -1000), (day("2023-06-01"), -500)]) is None
    assert xirr([(day("2023-01-01"), 1000)]) is None
    assert xirr([]) is None


@given(
    rate=st.floats(min_value=-0.9, max_value=3.0),
    days=st.integers(min_value=30, max_value=3650),
    amount=st.floats(min_value=1.0, max_value=1e7),
)
def test_xirr_recovers_the_rate_of_a_single_investment(rate, days, amount):
    start = day("2020-01-01")
    final = amount * (1 + rate) ** (days / 365)
    flows = [(start, -amount), (start + dt.timedelta(days=days), final)]
    assert xirr(flows) == pytest.approx(rate, abs=1e-7)


@pytest.mark.parametrize(
    ("rate", "days", "amount"), [(-0.9, 2442, 2.0), (-0.9, 1686, 1e7), (-0.9, 3616, 1.0)]
)
def test_xirr_of_a_rate_on_the_search_grid(rate, days, amount):
    """A root exactly on one of the grid rates (-90 % here) once made the bracket's two ends
    disagree in sign between two forms of the NPV, and brentq raised (found by the
    property test above)."""
    start = day("2020-01-01")
    final = amount * (1 + rate) ** (days / 365)
    flows = [(start, -amount), (start + dt.timedelta(days=days), final)]
    assert xirr(flows) == pytest.approx(rate, abs=1e-7)


# --- the two-period example: deposits move TWR and XIRR apart ------------------------------
#
# 2023-01-02  deposit 1000, buy 10 X @ 100         value 1000
# 2023-06-30  X closes 150                        value 1500   (period 1: +50%)
# 2023-07-03  deposit 3000, buy 20 X @ 150         value 4500
# 2024-01-02  X closes 120                        value 3600   (period 2: -20%)
#
# TWR  = 1.5 * 0.8 - 1 = +20%: the manager's skill, blind to the deposit's timing.
# XIRR solves 1000 (1+r)^(365/365) + 3000 (1+r)^(183/365) = 3600  ->  r = -15.5789105257%:
# three quarters of the money arrived just before the -20% stretch.
XIRR_TWO_PERIOD = -0.1557891052567825

DATES = ["2023-01-02", "2023-06-30", "2023-07-03", "2024-01-02"]
PRICES = table({"X": [100, 150, 150, 120], "BENCH": [200, 220, 230, 253]}, DATES)


def two_period_txns(*, deposits: bool) -> list[Txn]:
    txns = [
        trade("buy", "2023-01-02", "X", "10", "100"),
        trade("buy", "2023-07-03", "X", "20", "150"),
    ]
    if deposits:
        txns += [money("deposit", "2023-01-02", "1000"), money("deposit", "2023-07-03", "3000")]
    return txns


@pytest.mark.parametrize("track_cash", [True, False])
def test_value_frame_and_twr_of_the_two_period_example(track_cash):
    ledger = build_ledger(two_period_txns(deposits=track_cash), track_cash=track_cash)
    frame = daily_values(ledger, PRICES)
    assert list(frame.index.date) == [day(d) for d in DATES]
    assert frame["value"].tolist() == [1000, 1500, 4500, 3600]
    assert frame["cash"].tolist() == [0, 0, 0, 0]
    # with cash tracked the deposits are the flows; without, the buys are
    assert frame["inflow"].tolist() == [1000, 0, 3000, 0]
    assert frame["outflow"].tolist() == [0, 0, 0, 0]
    # day 1: 1000 / (0 + 1000); day 3: 4500 / (1500 + 3000)
    assert twr_returns(frame).tolist() == pytest.approx([0, 0.5, 0, -0.2])
    assert twr_index(frame).tolist() == pytest.approx([1, 1.5, 1.5, 1.2])
    assert period_twr(frame, None, day("2024-01-02")) == pytest.approx(0.2)
    assert period_xirr_of(frame, None) == pytest.approx(XIRR_TWO_PERIOD, abs=1e-10)


def period_xirr_of(frame, start):
    return xirr(period_cash_flows(frame, start, day("2024-01-02")))


def test_hand_xirr_solves_the_hand_equation():
    r = XIRR_TWO_PERIOD
    assert 1000 * (1 + r) + 3000 * (1 + r) ** (183 / 365) == pytest.approx(3600, abs=1e-8)


def test_period_returns_of_the_two_period_example():
    ledger = build_ledger(two_period_txns(deposits=True), track_cash=True)
    frame = daily_values(ledger, PRICES)
    bench = benchmark_values(frame, PRICES["BENCH"])
    rows = {r.period: r for r in period_returns(frame, day("2024-01-02"), benchmark=bench)}

    # 1Y from the close of 2023-01-02: the same flows as Max
    one_year = rows["1Y"]
    assert one_year.start == day("2023-01-02")
    assert one_year.twr == pytest.approx(0.2)
    assert one_year.twr_annualised == pytest.approx(0.2)  # exactly 365 days
    assert one_year.xirr == pytest.approx(XIRR_TWO_PERIOD, abs=1e-10)
    assert "lower than time-weighted" in one_year.explanation
    assert rows["Max"].twr == pytest.approx(0.2)
    assert rows["Max"].xirr == pytest.approx(XIRR_TWO_PERIOD, abs=1e-10)

    # 3M from 2023-10-02 (value 4500 carried from 2023-07-03) to 3600, 92 days: no flows,
    # so TWR and XIRR agree once annualised
    three = rows["3M"]
    assert three.twr == pytest.approx(-0.2)
    assert three.xirr == pytest.approx(0.8 ** (365 / 92) - 1)
    assert three.twr_annualised == pytest.approx(0.8 ** (365 / 92) - 1)
    assert "agree" in three.explanation

    # benchmark: 5 units at 200, then 3000 buys 3000/230 units at that day's close (flows
    # at the close); 18.0434... units * 253 = 4565, TWR = pure price return 253 / 200 - 1
    assert bench["value"].tolist() == pytest.approx([1000, 1100, 3000 + 1150, 4565])
    assert one_year.benchmark_twr == pytest.approx(0.265)
    rb = one_year.benchmark_xirr
    assert 1000 * (1 + rb) + 3000 * (1 + rb) ** (183 / 365) == pytest.approx(4565, abs=1e-6)


def test_withdrawals_make_money_weighted_higher():
    # 2023-01-02 deposit 4000, buy 40 X @ 100; X doubles by 2023-06-30 (value 8000);
    # 2023-07-03 withdraw 6000 after selling 30 @ 200; X halves to 100 by 2024-01-02.
    # TWR = 2 * 0.5 - 1 = 0. Money: -4000, +6000 after 182 days, +1000 at day 365:
    # most money was out before the fall, so XIRR > 0.
    prices = table({"X": [100, 200, 200, 100]}, DATES)
    txns = [
        money("deposit", "2023-01-02", "4000"),
        trade("buy", "2023-01-02", "X", "40", "100"),
        trade("sell", "2023-07-03", "X", "30", "200"),
        money("withdrawal", "2023-07-03", "6000"),
    ]
    frame = daily_values(build_ledger(txns, track_cash=True), prices)
    assert frame["value"].tolist() == [4000, 8000, 2000, 1000]
    assert frame["outflow"].tolist() == [0, 0, 6000, 0]
    assert period_twr(frame, None, day("2024-01-02")) == pytest.approx(0.0)
    r = period_xirr_of(frame, None)
    assert -4000 * (1 + r) + 6000 * (1 + r) ** (183 / 365) + 1000 == pytest.approx(0, abs=1e-7)
    assert r == pytest.approx(1.7333411981, abs=1e-9)  # +173%: one sign change, one root
    assert "higher than time-weighted" in why_twr_differs(0.0, r)


# --- the value frame -----------------------------------------------------------------------


def test_closes_carry_forward_and_missing_closes_use_the_trade_price():
    prices = table(
        {"X": [100, np.nan, 110], "Y": [np.nan, 50, np.nan]},
        ["2024-01-02", "2024-01-03", "2024-01-04"],
    )
    txns = [trade("buy", "2024-01-02", "X", "10", "99"), trade("buy", "2024-01-02", "Y", "2", "40")]
    frame = daily_values(build_ledger(txns, track_cash=False), prices)
    # 10*100 + 2*40 (Y's trade price); 10*100 (carried) + 2*50; 10*110 + 2*50 (carried)
    assert frame["value"].tolist() == [1080, 1100, 1200]
    assert frame["inflow"].tolist() == [1070, 0, 0]


def test_weekend_transactions_count_on_the_next_trading_day():
    prices = table({"X": [10, 11, 12]}, ["2024-01-05", "2024-01-08", "2024-01-09"])
    txns = [
        money("deposit", "2024-01-06", "100"),  # Saturday
        trade("buy", "2024-01-06", "X", "5", "10"),
        money("deposit", "2024-01-07", "50"),  # Sunday
    ]
    frame = daily_values(build_ledger(txns, track_cash=True), prices)
    assert list(frame.index.date) == [day("2024-01-08"), day("2024-01-09")]
    assert frame["inflow"].tolist() == [150, 0]
    assert frame["cash"].tolist() == [100, 100]
    assert frame["value"].tolist() == [155, 160]
    assert (
        daily_values(build_ledger(txns, track_cash=True), prices, end=day("2024-01-08")).shape[0]
        == 1
    )


def test_split_does_not_move_value_or_twr():
    prices = table({"X": [400, 100, 110]}, ["2024-06-07", "2024-06-10", "2024-06-11"])
    txns = [
        trade("buy", "2024-06-07", "X", "10", "400"),
        Txn(type=TxnType.SPLIT, trade_date=day("2024-06-10"), symbol="X", quantity=D(4)),
    ]
    frame = daily_values(build_ledger(txns, track_cash=False), prices)
    assert frame["value"].tolist() == [4000, 4000, 4400]
    assert twr_index(frame).tolist() == pytest.approx([1, 1, 1.1])


def test_untracked_sale_is_an_outflow_earning_the_day():
    # sell everything at 110 after a 100 close: the day's return is +10%, not -100%
    prices = table({"X": [100, 105]}, ["2024-01-02", "2024-01-03"])
    txns = [
        trade("buy", "2024-01-02", "X", "10", "100"),
        trade("sell", "2024-01-03", "X", "10", "110"),
    ]
    frame = daily_values(build_ledger(txns, track_cash=False), prices)
    assert frame["value"].tolist() == [1000, 0]
    assert frame["outflow"].tolist() == [0, 1100]
    assert twr_returns(frame).tolist() == pytest.approx([0, 0.1])


def test_empty_ledger_gives_an_empty_frame():
    frame = daily_values(build_ledger([], track_cash=True), PRICES)
    assert frame.empty
    assert period_returns(frame, day("2024-01-02"))[0].twr is None


@given(
    closes=st.lists(st.floats(min_value=1, max_value=1000), min_size=2, max_size=30),
    flows=st.lists(st.floats(min_value=0, max_value=1e5), min_size=2, max_size=30),
)
def test_benchmark_twr_is_its_price_return_whatever_the_inflows(closes, flows):
    n = min(len(closes), len(flows))
    index = pd.bdate_range("2024-01-01", periods=n)
    inflow = [1000.0, *flows[1:n]]  # money at work from day one
    frame = pd.DataFrame({"value": 0.0, "inflow": inflow, "outflow": 0.0}, index=index)
    bench = benchmark_values(frame, pd.Series(closes[:n], index=index))
    assert period_twr(bench, None, index[-1].date()) == pytest.approx(closes[n - 1] / closes[0] - 1)


# --- drawdown ------------------------------------------------------------------------------


def test_max_drawdown_of_a_hand_series():
    dates = pd.bdate_range("2024-01-01", periods=7)
    series = pd.Series([100, 120, 90, 95, 130, 104, 110], index=dates)
    # running peaks 100 120 120 120 130 130 130; falls 0 0 .25 .2083 0 .2 .1538
    dd = max_drawdown(series)
    assert dd.depth == pytest.approx(0.25)
    assert (dd.peak, dd.trough, dd.recovered) == (
        dates[1].date(),
        dates[2].date(),
        dates[4].date(),
    )
    # the 20% fall from 130 has not recovered
    tail = max_drawdown(series.iloc[4:])
    assert tail.depth == pytest.approx(0.2)
    assert tail.recovered is None


def test_max_drawdown_of_a_rising_series_is_zero():
    dates = pd.bdate_range("2024-01-01", periods=3)
    dd = max_drawdown(pd.Series([1.0, 1.1, 1.2], index=dates))
    assert (dd.depth, dd.peak, dd.trough) == (0.0, dates[0].date(), dates[0].date())
    assert max_drawdown(pd.Series([], dtype=float)) is None


def test_withdrawal_is_not_a_drawdown():
    # value halves because the trader took 2000 out; prices never fell
    prices = table({"X": [100, 100, 100]}, ["2024-01-02", "2024-01-03", "2024-01-04"])
    txns = [
        money("deposit", "2024-01-02", "4000"),
        trade("buy", "2024-01-02", "X", "20", "100"),
        money("withdrawal", "2024-01-03", "2000"),
    ]
    frame = daily_values(build_ledger(txns, track_cash=True), prices)
    assert frame["value"].tolist() == [4000, 2000, 2000]
    assert max_drawdown(frame["value"]).depth == pytest.approx(0.5)  # what raw values suggest
    assert portfolio_drawdown(frame).depth == 0.0  # what the TWR index says


# --- allocation ----------------------------------------------------------------------------


def test_allocation_by_holding_and_sector():
    values = {"AAPL": D(600), "MSFT": D(300), "XOM": D(100)}
    sectors = {"AAPL": "Technology", "MSFT": "Technology", "XOM": "Energy"}
    assert allocation_by_holding(values) == pytest.approx({"AAPL": 0.6, "MSFT": 0.3, "XOM": 0.1})
    assert list(allocation_by_holding(values)) == ["AAPL", "MSFT", "XOM"]  # largest first
    assert allocation_by_sector(values, sectors) == pytest.approx(
        {"Technology": 0.9, "Energy": 0.1}
    )
    with_cash = allocation_by_sector(values, {"AAPL": "Technology"}, cash=D(1000))
    assert with_cash == pytest.approx({"Cash": 0.5, "Technology": 0.3, "Unknown": 0.2})
    assert sum(with_cash.values()) == pytest.approx(1.0)
    assert allocation_by_holding({}) == {}
    assert allocation_by_holding({"AAPL": 0}) == {}


# --- small helpers -------------------------------------------------------------------------


def test_annualise():
    assert annualise(0.21, 730) == pytest.approx(0.1)  # 1.1 ** 2 = 1.21
    assert annualise(0.1, 0) is None
    assert annualise(-1.0, 365) is None


def test_why_twr_differs_sentences():
    assert why_twr_differs(0.10, 0.05) == (
        "Money-weighted return (+5.00%) is lower than time-weighted (+10.00%) because more money "
        "was invested before the weaker stretch of the period."
    )
    assert why_twr_differs(0.05, 0.10).startswith("Money-weighted return (+10.00%) is higher")
    assert why_twr_differs(0.10, 0.102).startswith("Money-weighted (+10.20%) and time-weighted")
    # the figures read as in the returns table: 2 decimals, a true minus, half away from zero
    assert why_twr_differs(-0.0123, -0.031).startswith(
        "Money-weighted return (\u22123.10%) is lower than time-weighted (\u22121.23%)"
    )
    assert "(+0.01%)" in why_twr_differs(0.00005, 0.0001) and "(0.00%)" in why_twr_differs(0, 0)
    assert "(\u2014)" in why_twr_differs(0.1, math.inf)
    assert "not available" in why_twr_differs(0.10, None)


# --- flow timing: a fully invested single stock earns its price return ----------------------


@given(
    cents=st.lists(st.integers(min_value=100, max_value=100_000), min_size=2, max_size=40),
    buys=st.lists(
        st.tuples(st.integers(min_value=0, max_value=39), st.integers(min_value=1, max_value=500)),
        min_size=1,
        max_size=8,
    ),
    track_cash=st.booleans(),
)
def test_fully_invested_single_stock_twr_is_its_price_return(cents, buys, track_cash):
    """Deposit q * close and buy q at that close on random days: flows at the close mean the
    portfolio's TWR is exactly the stock's price return from the first buy, and XIRR is the
    rate solving the investor's own cash flows (-q * close on each buy day, +value at end)."""
    n = len(cents)
    index = pd.bdate_range("2024-01-01", periods=n)
    closes = [D(c) / 100 for c in cents]
    prices = pd.DataFrame({"X": [float(c) for c in closes]}, index=index)
    txns = []
    flows: dict[dt.date, float] = {}
    for row, quantity in buys:
        row = row % n
        on = index[row].date()
        cost = closes[row] * quantity  # exact in Decimal, so cash stays at 0
        txns += [
            Txn(type=TxnType.DEPOSIT, trade_date=on, amount=cost),
            Txn(
                type=TxnType.BUY, trade_date=on, symbol="X", quantity=D(quantity), price=closes[row]
            ),
        ]
        flows[on] = flows.get(on, 0.0) - float(cost)
    frame = daily_values(build_ledger(txns, track_cash=track_cash), prices)
    assert frame["cash"].abs().max() < 1e-9
    first = min(r % n for r, _ in buys)
    end = index[-1].date()
    expected = float(closes[-1]) / float(closes[first]) - 1
    assert period_twr(frame, None, end) == pytest.approx(expected, abs=1e-9)

    # XIRR: the same cash flows as the investor's, and the rate zeroes their NPV
    held = sum(q for _, q in buys)
    hand = sorted([*flows.items(), (end, held * float(closes[-1]))])
    got = period_cash_flows(frame, None, end)
    mine = sorted((d, a) for d, a in got if a)
    assert [d for d, _ in mine] == [d for d, _ in hand]
    assert [a for _, a in mine] == pytest.approx([a for _, a in hand])
    rate = xirr(got)
    d0 = hand[0][0]

    def npv(r: float) -> float:
        return sum(a / (1 + r) ** ((d - d0).days / 365) for d, a in hand)

    if rate is None:  # one day, or a rate outside the solver's -99.9999999%..1e9 per year
        assert {d for d, _ in hand} == {end} or npv(-0.999999999) * npv(1e9) > 0
        return
    assert npv(rate) == pytest.approx(0, abs=1e-6 * sum(abs(a) for _, a in hand))
    # The same root to 1e-9, relative for the huge rates a few days can give (e.g. 48,481 = 4.8M %/yr).
    assert rate == pytest.approx(xirr(hand), rel=1e-9, abs=1e-9)


def test_xirr_near_minus_100_percent_is_exact_in_its_growth_factor():
    # Found by the property test above: 2.55 in, 1.00 out 17 days later is -99.9999998% a
    # year; solving in r left 1 + r wrong by 1e-4 of itself and the NPV at 1e-5, not 0.
    start, end = dt.date(2024, 1, 1), dt.date(2024, 1, 18)
    rate = xirr([(start, -2.55), (end, 1.0)])
    exact = (1 / 2.55) ** (365 / 17) - 1
    assert (1 + rate) == pytest.approx(1 + exact, rel=1e-9)
    assert -2.55 + 1.0 / (1 + rate) ** (17 / 365) == pytest.approx(0, abs=1e-8)


def test_xirr_of_flows_on_one_day_is_undefined():
    # Found by the property test above: money in and value out on the same day.
    day = dt.date(2024, 1, 5)
    assert xirr([(day, -100.0), (day, 100.0)]) is None
    assert xirr([(day, -100.0), (day, 100.0000000001)]) is None
