"""Every field that takes user text stores plain text: markup stripped after decoding, to a
fixed point, whether the payload is raw or entity-encoded, through services, forms, the API
and CSV import."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from portfolios import csv_io, services
from portfolios.models import Portfolio, Transaction, Watchlist, WatchlistItem
from tests.portfolios.factories import PortfolioFactory, WatchlistFactory

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>Hi",  # raw: nh3 drops the script and its content
    "&lt;script&gt;alert(1)&lt;/script&gt;Hi",  # encoded: decoded, then stripped
    "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;Hi",  # double-encoded
    "<b>H</b>i<!-- c -->",
    "&#60;img src=x onerror=alert(1)&#62;Hi",  # numeric entities
    "H\x00i",  # NUL and other control characters go
]


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2024, 2, 13, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.mark.parametrize("payload", PAYLOADS)
def test_services_store_plain_text_in_every_user_field(user, market, payload):
    portfolio = services.portfolio_create(owner=user, name=payload)
    assert portfolio.name == "Hi"
    row = services.transaction_create(
        portfolio=portfolio,
        type="buy",
        trade_date=dt.date(2024, 1, 2),
        symbol="AAPL",
        quantity="1",
        price="100",
        notes=f"line one\n{payload}",
    )
    assert row.notes == "line one\nHi"  # notes keep their line breaks
    row = services.transaction_update(transaction_=row, notes=payload)
    assert row.notes == "Hi"
    watchlist = services.watchlist_create(owner=user, name=payload)
    assert watchlist.name == "Hi"
    item = services.watchlist_item_add(watchlist=watchlist, symbol="AAPL", note=payload)
    assert item.note == "Hi"
    services.watchlist_item_update(item=item, note=f"x {payload}")
    item.refresh_from_db()
    assert item.note == "x Hi"


@pytest.mark.parametrize("payload", PAYLOADS[:3])
def test_api_and_forms_store_plain_text(api_client, auth_client, user, market, payload):
    api_client.force_authenticate(user)
    body = api_client.post("/api/portfolios/", {"name": payload}, format="json").json()
    assert body["name"] == "Hi"
    response = auth_client.post("/portfolios/new/", {"name": f"{payload}2", "benchmark": "SPY"})
    assert response.status_code == 302
    assert set(Portfolio.objects.filter(owner=user).values_list("name", flat=True)) == {
        "Hi",
        "Hi2",
    }
    portfolio = Portfolio.objects.get(owner=user, name="Hi")
    body = api_client.post(
        "/api/transactions/",
        {
            "portfolio": portfolio.pk,
            "type": "buy",
            "symbol": "AAPL",
            "trade_date": "2024-01-02",
            "quantity": "1",
            "price": "100",
            "notes": payload,
        },
        format="json",
    ).json()
    assert body["notes"] == "Hi"
    watchlist = WatchlistFactory(owner=user)
    body = api_client.post(
        "/api/watchlist-items/",
        {"watchlist": watchlist.pk, "symbol": "AAPL", "note": payload},
        format="json",
    ).json()
    assert body["note"] == "Hi"
    body = api_client.post("/api/watchlists/", {"name": payload}, format="json").json()
    assert body["name"] == "Hi"
    assert not Watchlist.objects.filter(name__contains="<").exists()
    assert not WatchlistItem.objects.filter(note__contains="<").exists()


@pytest.mark.parametrize("payload", PAYLOADS[:3])
def test_csv_import_stores_plain_text_notes(user, market, payload):
    portfolio = PortfolioFactory(owner=user)
    quoted = payload.replace('"', '""')
    parsed = csv_io.parse_csv(
        f'date,type,symbol,quantity,price,notes\n2024-01-02,buy,AAPL,1,100,"{quoted}"\n'
    )
    checked = csv_io.check_rows(portfolio=portfolio, rows=parsed.rows)
    assert not checked.errors
    services.transactions_import(portfolio=portfolio, rows=parsed.rows)
    assert list(
        Transaction.objects.filter(portfolio=portfolio).values_list("notes", flat=True)
    ) == ["Hi"]
