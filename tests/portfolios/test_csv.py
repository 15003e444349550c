"""CSV import/export: aliases, row-and-column errors, duplicates, all-or-nothing, round trip,
and the upload → preview → confirm pages (the upload kept in the session, not on disk)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from portfolios import csv_io, services
from portfolios.models import Portfolio, Transaction
from portfolios.selectors import portfolio_summary
from tests.portfolios.factories import PortfolioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2024, 2, 13, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


def check(portfolio, text: str):
    parsed = csv_io.parse_csv(text.encode())
    assert not parsed.errors, parsed.errors
    return parsed, csv_io.check_rows(portfolio=portfolio, rows=parsed.rows)


def test_aliases_are_accepted(user, market):
    portfolio = PortfolioFactory(owner=user)
    text = (
        "Trade Date,Action,Ticker,Shares,Price,Commission,Amount,Memo,Broker ref\n"
        "2024-01-02,BUY,aapl,10,$100.00,1,,first,X1\n"
        "01/22/2024,Sold,AAPL,5,120,1,,,X2\n"
        '2024-01-25,div,XOM,,,,"1,019.50",,X3\n'
    )
    parsed, checked = check(portfolio, text)
    assert parsed.ignored_columns == ["Broker ref"]
    assert not checked.errors
    assert [(f["type"], f["ticker"].symbol, f["trade_date"]) for f in checked.fields] == [
        ("buy", "AAPL", dt.date(2024, 1, 2)),
        ("sell", "AAPL", dt.date(2024, 1, 22)),
        ("dividend", "XOM", dt.date(2024, 1, 25)),
    ]
    assert checked.fields[0]["price"] == 100 and checked.fields[0]["fees"] == 1
    assert checked.fields[2]["amount"] == D("1019.5")


@pytest.mark.parametrize("header", ["qty", "shares", "quantity"])
def test_quantity_aliases(user, market, header):
    portfolio = PortfolioFactory(owner=user)
    _, checked = check(portfolio, f"date,type,symbol,{header},price\n2024-01-02,buy,AAPL,3,100\n")
    assert checked.fields[0]["quantity"] == 3


def test_missing_required_column_is_named():
    parsed = csv_io.parse_csv(b"symbol,qty,price\nAAPL,1,2\n")
    assert [str(e) for e in parsed.errors] == [
        "Row 1, column date: is missing from the header (accepted: date, trade_date, tradedate, trade_dt).",
        "Row 1, column type: is missing from the header (accepted: type, action, transaction, transaction_type, side).",
    ]


def test_row_errors_name_row_and_column(user, market):
    portfolio = PortfolioFactory(owner=user)
    text = (
        "date,type,symbol,quantity,price\n"
        "2024-13-02,buy,AAPL,1,100\n"  # row 2: bad date
        "2024-01-03,swap,AAPL,1,100\n"  # row 3: bad type
        "2024-01-03,buy,AAPL,one,100\n"  # row 4: bad number
        "2024-01-04,buy,NOPE,1,100\n"  # row 5: unknown ticker (checked against the database)
    )
    parsed = csv_io.parse_csv(text.encode())
    assert [str(e) for e in parsed.errors] == [
        "Row 2, column date: '2024-13-02' is not a date; use YYYY-MM-DD.",
        "Row 3, column type: 'swap' is not a type; use one of buy, sell, dividend, fee, interest, deposit, withdrawal, split.",
        "Row 4, column quantity: 'one' is not a number.",
    ]
    checked = csv_io.check_rows(portfolio=portfolio, rows=parsed.rows)
    assert [str(e) for e in checked.errors] == [
        "Row 5, column symbol: Unknown ticker 'NOPE': pick a symbol from the list."
    ]


def test_future_date_and_ledger_errors_name_the_row(user, market):
    portfolio = PortfolioFactory(owner=user)
    _, checked = check(portfolio, "date,type,symbol,quantity,price\n2024-03-01,buy,AAPL,1,100\n")
    assert [str(e) for e in checked.errors] == [
        "Row 2, column date: 2024-03-01 is in the future; enter a past trade."
    ]
    _, checked = check(
        portfolio,
        "date,type,symbol,quantity,price\n2024-01-02,buy,AAPL,10,100\n2024-01-05,sell,AAPL,12,110\n",
    )
    assert [str(e) for e in checked.errors] == [
        "Row 3, column quantity: Sell of 12 AAPL on 2024-01-05 exceeds the 10 held"
    ]


def test_duplicates_in_the_file_and_in_the_portfolio(portfolio):
    text = (
        "date,type,symbol,quantity,price,fees\n"
        "2024-01-02,buy,AAPL,10,100,1\n"  # already in the portfolio
        "2024-01-10,buy,AAPL,2,105,0\n"
        "2024-01-10,buy,AAPL,2,105.00,0\n"  # twice in the file
    )
    _, checked = check(portfolio, text)
    assert [str(e) for e in checked.errors] == [
        "Row 2: duplicate of a transaction already in the portfolio (Buy of 10 AAPL on 2024-01-02).",
        "Row 4: duplicate of row 3 of this file.",
    ]


def test_import_is_all_or_nothing(user, market):
    portfolio = PortfolioFactory(owner=user)
    rows = csv_io.parse_csv(
        b"date,type,symbol,quantity,price\n2024-01-02,buy,AAPL,10,100\n2024-01-05,sell,AAPL,12,110\n"
    ).rows
    with pytest.raises(csv_io.ImportRejected) as exc:
        services.transactions_import(portfolio=portfolio, rows=rows)
    assert "Row 3, column quantity" in str(exc.value)
    assert not Transaction.objects.exists()


def test_export_round_trips_into_a_new_portfolio(portfolio, user):
    services.transaction_create(
        portfolio=portfolio,
        type="deposit",
        trade_date=dt.date(2024, 1, 2),
        amount="2500",
        notes='=HYPERLINK("x"), a "quote"',
    )
    services.transaction_create(
        portfolio=portfolio,
        type="split",
        trade_date=dt.date(2024, 2, 1),
        symbol="AAPL",
        quantity="4",
    )
    exported = csv_io.export_csv(portfolio=portfolio)
    assert exported.splitlines()[0] == "date,type,symbol,quantity,price,fees,amount,notes"
    assert "'=HYPERLINK" in exported  # a spreadsheet will not run it
    copy = PortfolioFactory(owner=user, name="Copy", benchmark=portfolio.benchmark)
    parsed = csv_io.parse_csv(exported.encode())
    assert not parsed.errors
    services.transactions_import(portfolio=copy, rows=parsed.rows)

    def rows(p):
        return sorted(
            (t.trade_date, t.type, t.symbol, t.quantity, t.price, t.fees, t.amount, t.notes)
            for t in p.transactions.select_related("ticker")
        )

    assert rows(copy) == rows(portfolio)
    a, b = portfolio_summary(portfolio=portfolio), portfolio_summary(portfolio=copy)
    assert (a.total_value, a.realized, a.unrealized, a.total_gain) == (
        b.total_value,
        b.realized,
        b.unrealized,
        b.total_gain,
    )
    # and back into the same portfolio: every row is a duplicate, nothing changes
    checked = csv_io.check_rows(portfolio=portfolio, rows=parsed.rows)
    assert len(checked.errors) == len(parsed.rows) == 7
    assert csv_io.export_csv(portfolio=copy) == exported


def test_upload_preview_confirm_pages(auth_client, user, market):
    portfolio = PortfolioFactory(owner=user)
    url = f"/portfolios/{portfolio.pk}/import/"
    upload = SimpleUploadedFile(
        "trades.csv",
        b"date,type,symbol,qty,price\n2024-01-02,buy,AAPL,10,100\n2024-01-03,buy,XOM,5,50\n",
    )
    response = auth_client.post(url, {"file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 rows read, no problems found" in page and "Import 2 transactions" in page
    assert not Transaction.objects.exists()  # nothing saved before confirming
    token = response.context["token"]
    stored = auth_client.session[f"portfolios:import:{portfolio.pk}"]
    assert stored["token"] == token and len(stored["rows"]) == 2
    assert auth_client.post(f"{url}confirm/", {"token": "stale"}).status_code == 302
    assert not Transaction.objects.exists()
    response = auth_client.post(f"{url}confirm/", {"token": token})
    assert response.status_code == 302 and response["Location"] == f"/portfolios/{portfolio.pk}/"
    assert Transaction.objects.filter(portfolio=portfolio).count() == 2
    assert f"portfolios:import:{portfolio.pk}" not in auth_client.session
    # the same file again: duplicates, no confirm button, nothing saved
    upload.seek(0)
    page = auth_client.post(url, {"file": upload}).content.decode()
    assert (
        "Nothing was imported" in page
        and "duplicate of a transaction already in the portfolio" in page
    )
    assert "import-confirm" not in page
    assert Transaction.objects.count() == 2


def test_confirm_rechecks_against_the_current_history(auth_client, user, market):
    portfolio = PortfolioFactory(owner=user)
    url = f"/portfolios/{portfolio.pk}/import/"
    upload = SimpleUploadedFile(
        "t.csv", b"date,type,symbol,qty,price\n2024-01-02,buy,AAPL,10,100\n"
    )
    token = auth_client.post(url, {"file": upload}).context["token"]
    services.transaction_create(
        portfolio=portfolio,
        type="buy",
        trade_date=dt.date(2024, 1, 2),
        symbol="AAPL",
        quantity="10",
        price="100",
    )
    response = auth_client.post(f"{url}confirm/", {"token": token})
    assert response.status_code == 400
    assert "duplicate of a transaction already in the portfolio" in response.content.decode()
    assert Transaction.objects.count() == 1


def test_export_download(auth_client, portfolio):
    response = auth_client.get(f"/portfolios/{portfolio.pk}/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="long-term-holdings-2024-02-13.csv"' in response["Content-Disposition"]
    body = response.content.decode()
    assert body.splitlines()[1] == "2024-01-02,buy,AAPL,10,100,1,0,"
    assert Portfolio.objects.count() == 1
