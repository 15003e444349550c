"""Services: every write is checked by the ledger over the whole resulting history; a refusal
names the field and saves nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from portfolios import services
from portfolios.models import Portfolio, Transaction, Watchlist, WatchlistItem
from tests.factories import TickerFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2024, 6, 14)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2024, 6, 14, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def aapl():
    return TickerFactory(symbol="AAPL")


@pytest.fixture
def portfolio(user):
    return services.portfolio_create(owner=user, name="Brokerage")


@pytest.fixture
def cash_portfolio(user):
    return services.portfolio_create(owner=user, name="Cash account", track_cash=True)


def errors(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


def buy(portfolio, qty="10", price="100", on=dt.date(2024, 1, 2), **kw):
    return services.transaction_create(
        portfolio=portfolio,
        type="buy",
        trade_date=on,
        symbol="AAPL",
        quantity=qty,
        price=price,
        **kw,
    )


# --- portfolios ------------------------------------------------------------------------------


def test_portfolio_defaults_to_spy_benchmark_when_listed(user):
    spy = TickerFactory(symbol="SPY")
    portfolio = services.portfolio_create(owner=user, name="Main")
    assert portfolio.benchmark == spy
    assert portfolio.track_cash is False


def test_portfolio_without_spy_in_the_universe_has_no_benchmark(user):
    assert services.portfolio_create(owner=user, name="Main").benchmark is None


def test_portfolio_unknown_benchmark_is_refused_on_that_field(user):
    with pytest.raises(ValidationError) as exc:
        services.portfolio_create(owner=user, name="Main", benchmark="NOPE")
    assert "Unknown ticker 'NOPE'" in errors(exc)["benchmark"][0]
    assert not Portfolio.objects.exists()


def test_portfolio_names_are_unique_per_owner(user, other_user):
    services.portfolio_create(owner=user, name="Main")
    with pytest.raises(ValidationError) as exc:
        services.portfolio_create(owner=user, name="Main")
    assert "already have a portfolio named 'Main'" in errors(exc)["name"][0]
    services.portfolio_create(owner=other_user, name="Main")  # another owner may
    assert Portfolio.objects.count() == 2


def test_portfolio_name_html_is_stripped(user):
    portfolio = services.portfolio_create(owner=user, name="<b>Growth</b> & income")
    assert portfolio.name == "Growth & income"


def test_turning_cash_tracking_on_is_refused_when_buys_were_never_funded(portfolio, aapl):
    buy(portfolio)
    with pytest.raises(ValidationError) as exc:
        services.portfolio_update(portfolio=portfolio, track_cash=True)
    message = errors(exc)["track_cash"][0]
    assert "Buy of 10 AAPL on 2024-01-02 needs $1,000.00 cash" in message
    portfolio.refresh_from_db()
    assert portfolio.track_cash is False


def test_portfolio_update_renames_and_clears_benchmark(user):
    TickerFactory(symbol="SPY")
    portfolio = services.portfolio_create(owner=user, name="Main")
    services.portfolio_update(portfolio=portfolio, name="Renamed", benchmark="")
    portfolio.refresh_from_db()
    assert (portfolio.name, portfolio.benchmark) == ("Renamed", None)


# --- transactions ----------------------------------------------------------------------------


def test_the_original_bug_average_cost_after_a_partial_sale_is_the_buy_price(portfolio, aapl):
    """Buy 10 @ 100, sell 5 @ 120: 5 left at average cost 100 (not 200), realized 100."""
    from portfolios.selectors import portfolio_summary

    buy(portfolio)
    services.transaction_create(
        portfolio=portfolio,
        type="sell",
        trade_date=dt.date(2024, 2, 1),
        symbol="AAPL",
        quantity="5",
        price="120",
    )
    summary = portfolio_summary(portfolio=portfolio)
    (holding,) = summary.holdings
    assert holding.quantity == 5
    assert holding.average_cost == 100
    assert holding.cost_basis == 500
    assert summary.realized == 100


def test_selling_more_than_held_is_refused_with_the_ledgers_message(portfolio, aapl):
    buy(portfolio)
    with pytest.raises(ValidationError) as exc:
        services.transaction_create(
            portfolio=portfolio,
            type="sell",
            trade_date=dt.date(2024, 3, 1),
            symbol="aapl",
            quantity="15",
            price="120",
        )
    assert errors(exc) == {"quantity": ["Sell of 15 AAPL on 2024-03-01 exceeds the 10 held"]}
    assert Transaction.objects.count() == 1


def test_overdrawing_cash_is_refused_and_nothing_saved(cash_portfolio, aapl):
    services.transaction_create(
        portfolio=cash_portfolio, type="deposit", trade_date=dt.date(2024, 1, 2), amount="500"
    )
    with pytest.raises(ValidationError) as exc:
        buy(cash_portfolio, qty="10", price="100", on=dt.date(2024, 1, 3))
    assert errors(exc)["quantity"] == [
        "Buy of 10 AAPL on 2024-01-03 needs $1,000.00 cash but leaves the balance at \u2212$500.00 at the end of the day"
    ]
    assert Transaction.objects.count() == 1


def test_withdrawal_beyond_cash_names_the_amount(cash_portfolio):
    services.transaction_create(
        portfolio=cash_portfolio, type="deposit", trade_date=dt.date(2024, 1, 2), amount="500"
    )
    with pytest.raises(ValidationError) as exc:
        services.transaction_create(
            portfolio=cash_portfolio,
            type="withdrawal",
            trade_date=dt.date(2024, 1, 5),
            amount="800",
        )
    assert "Withdrawal of $800.00 on 2024-01-05 needs $800.00 cash" in errors(exc)["amount"][0]


def test_future_dates_are_refused(portfolio, aapl):
    with pytest.raises(ValidationError) as exc:
        buy(portfolio, on=TODAY + dt.timedelta(days=1))
    assert errors(exc) == {"trade_date": ["2024-06-15 is in the future; enter a past trade."]}
    buy(portfolio, on=TODAY)  # today is fine
    assert Transaction.objects.count() == 1


def test_unknown_ticker_is_refused_naming_the_symbol_field(portfolio):
    with pytest.raises(ValidationError) as exc:
        buy(portfolio)
    assert errors(exc) == {"symbol": ["Unknown ticker 'AAPL': pick a symbol from the list."]}
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"type": "buy", "quantity": "0", "price": "1"}, "quantity", "must be positive"),
        ({"type": "buy", "quantity": "1", "price": "-1"}, "price", "must not be negative"),
        (
            {"type": "buy", "quantity": "1", "price": "1", "fees": "-2"},
            "fees",
            "must not be negative",
        ),
        ({"type": "dividend", "amount": "0"}, "amount", "must be positive"),
        ({"type": "deposit", "amount": "abc"}, "amount", "Enter a number"),
        ({"type": "transfer"}, "type", "Unknown type 'transfer'"),
        ({"type": "split", "quantity": "0"}, "quantity", "split ratio"),
    ],
)
def test_bad_fields_are_named(portfolio, aapl, kwargs, field, text):
    with pytest.raises(ValidationError) as exc:
        services.transaction_create(
            portfolio=portfolio, trade_date=dt.date(2024, 1, 2), symbol="AAPL", **kwargs
        )
    assert list(errors(exc)) == [field]
    assert text in errors(exc)[field][0]
    assert not Transaction.objects.exists()


def test_fields_that_do_not_apply_to_the_type_are_zeroed(portfolio, aapl):
    row = services.transaction_create(
        portfolio=portfolio,
        type="deposit",
        trade_date=dt.date(2024, 1, 2),
        amount="100",
        quantity="5",
        price="9",
    )
    assert (row.quantity, row.price, row.amount, row.ticker) == (0, 0, 100, None)


def test_notes_are_sanitised_to_plain_text(portfolio, aapl):
    row = buy(
        portfolio,
        notes='<script>alert("x")</script><b>Big</b> buy & hold <img src=x onerror=alert(1)>',
    )
    assert row.notes == "Big buy & hold"  # the script goes with its content
    assert "<" not in row.notes


def test_edit_that_breaks_a_later_sale_is_refused(portfolio, aapl):
    first = buy(portfolio)
    services.transaction_create(
        portfolio=portfolio,
        type="sell",
        trade_date=dt.date(2024, 2, 1),
        symbol="AAPL",
        quantity="8",
        price="120",
    )
    with pytest.raises(ValidationError) as exc:
        services.transaction_update(transaction_=first, quantity=D(5))
    assert errors(exc) == {
        NON_FIELD_ERRORS: [
            "This change would break the history: Sell of 8 AAPL on 2024-02-01 exceeds the 5 held"
        ]
    }
    first.refresh_from_db()
    assert first.quantity == 10


def test_edit_keeps_fields_left_out(portfolio, aapl):
    row = buy(portfolio, fees="1.5", notes="first")
    services.transaction_update(transaction_=row, price="101")
    row.refresh_from_db()
    assert (row.quantity, row.price, row.fees, row.notes) == (10, 101, D("1.5"), "first")


def test_delete_that_breaks_the_history_is_refused(cash_portfolio, aapl):
    deposit = services.transaction_create(
        portfolio=cash_portfolio, type="deposit", trade_date=dt.date(2024, 1, 2), amount="2000"
    )
    buy(cash_portfolio)
    with pytest.raises(ValidationError) as exc:
        services.transaction_delete(transaction_=deposit)
    assert "Deleting the deposit would break the history: Buy of 10 AAPL" in exc.value.messages[0]
    assert Transaction.objects.count() == 2


def test_delete_of_an_unneeded_row_works(portfolio, aapl):
    row = buy(portfolio)
    services.transaction_delete(transaction_=row)
    assert not Transaction.objects.exists()


def test_same_day_sale_funds_a_purchase(cash_portfolio, aapl):
    """Cash is checked at the end of each day, so a sale funds a buy on the same day."""
    TickerFactory(symbol="MSFT")
    services.transaction_create(
        portfolio=cash_portfolio, type="deposit", trade_date=dt.date(2024, 1, 2), amount="1000"
    )
    buy(cash_portfolio, qty="10", price="100")
    services.transaction_create(
        portfolio=cash_portfolio,
        type="sell",
        trade_date=dt.date(2024, 3, 1),
        symbol="AAPL",
        quantity="10",
        price="100",
    )
    services.transaction_create(
        portfolio=cash_portfolio,
        type="buy",
        trade_date=dt.date(2024, 3, 1),
        symbol="MSFT",
        quantity="5",
        price="200",
    )
    assert Transaction.objects.count() == 4


# --- watchlists and alerts -------------------------------------------------------------------


def test_watchlist_items_are_unique_per_list(user, aapl):
    watchlist = services.watchlist_create(owner=user, name="Tech")
    services.watchlist_item_add(watchlist=watchlist, symbol="aapl", note="<i>core</i>")
    with pytest.raises(ValidationError) as exc:
        services.watchlist_item_add(watchlist=watchlist, symbol="AAPL")
    assert errors(exc) == {"symbol": ["AAPL is already on Tech."]}
    assert WatchlistItem.objects.get().note == "core"


def test_watchlist_targets_are_checked(user, aapl):
    watchlist = services.watchlist_create(owner=user, name="Tech")
    with pytest.raises(ValidationError) as exc:
        services.watchlist_item_add(
            watchlist=watchlist, symbol="AAPL", target_above="100", target_below="120"
        )
    assert list(errors(exc)) == ["target_below"]
    assert not WatchlistItem.objects.exists()


def test_watchlist_names_unique_per_owner(user):
    services.watchlist_create(owner=user, name="Tech")
    with pytest.raises(ValidationError) as exc:
        services.watchlist_create(owner=user, name="Tech")
    assert list(errors(exc)) == ["name"]
    assert Watchlist.objects.count() == 1


def test_alert_create_checks_fields(user, aapl):
    with pytest.raises(ValidationError) as exc:
        services.alert_create(owner=user, symbol="AAPL", direction="sideways", threshold="10")
    assert list(errors(exc)) == ["direction"]
    with pytest.raises(ValidationError) as exc:
        services.alert_create(owner=user, symbol="AAPL", direction="above", threshold="0")
    assert list(errors(exc)) == ["threshold"]
    with pytest.raises(ValidationError) as exc:
        services.alert_create(owner=user, symbol="ZZZZ", direction="above", threshold="10")
    assert list(errors(exc)) == ["symbol"]
    alert = services.alert_create(owner=user, symbol="aapl", direction="below", threshold="90.5")
    assert (alert.ticker, alert.armed, alert.threshold) == (aapl, True, D("90.5"))
