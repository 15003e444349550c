"""Pages: login required, owner-only (404 for others), forms that name the field, notes shown
as text, and the figures on the page are the ledger's."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

import pytest
import time_machine

from portfolios import services
from portfolios.models import (
    Notification,
    Portfolio,
    PriceAlert,
    Transaction,
    Watchlist,
    WatchlistItem,
)
from tests.portfolios.factories import (
    PortfolioFactory,
    PriceAlertFactory,
    TransactionFactory,
    WatchlistFactory,
    WatchlistItemFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2024, 2, 13, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


def text(response) -> str:
    return response.content.decode()


def owner_urls(portfolio, row, watchlist, item, alert) -> list[tuple[str, str]]:
    p, w = portfolio.pk, watchlist.pk
    return [
        ("get", f"/portfolios/{p}/"),
        ("get", f"/portfolios/{p}/edit/"),
        ("get", f"/portfolios/{p}/delete/"),
        ("post", f"/portfolios/{p}/delete/"),
        ("get", f"/portfolios/{p}/realized/"),
        ("get", f"/portfolios/{p}/transactions/"),
        ("get", f"/portfolios/{p}/transactions/new/"),
        ("post", f"/portfolios/{p}/transactions/new/"),
        ("get", f"/portfolios/{p}/transactions/{row.pk}/edit/"),
        ("post", f"/portfolios/{p}/transactions/{row.pk}/delete/"),
        ("get", f"/portfolios/{p}/import/"),
        ("post", f"/portfolios/{p}/import/confirm/"),
        ("get", f"/portfolios/{p}/export.csv"),
        ("get", f"/watchlists/{w}/"),
        ("post", f"/watchlists/{w}/rename/"),
        ("post", f"/watchlists/{w}/delete/"),
        ("post", f"/watchlists/{w}/items/"),
        ("get", f"/watchlists/{w}/items/{item.pk}/edit/"),
        ("post", f"/watchlists/{w}/items/{item.pk}/remove/"),
        ("post", f"/alerts/{alert.pk}/rearm/"),
        ("post", f"/alerts/{alert.pk}/delete/"),
    ]


def test_pages_require_login(client):
    for url in ["/portfolios/", "/portfolios/new/", "/watchlists/", "/alerts/", "/notifications/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_another_users_objects_are_404_and_untouched(client, portfolio, other_user, market):
    row = portfolio.transactions.first()
    watchlist = WatchlistFactory(owner=portfolio.owner)
    item = WatchlistItemFactory(watchlist=watchlist, ticker=market["AAPL"])
    alert = PriceAlertFactory(owner=portfolio.owner, ticker=market["AAPL"], armed=False)
    client.force_login(other_user)
    for method, url in owner_urls(portfolio, row, watchlist, item, alert):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url)
    assert Portfolio.objects.filter(pk=portfolio.pk).exists()
    assert Transaction.objects.filter(pk=row.pk).exists()
    assert Watchlist.objects.filter(pk=watchlist.pk).exists()
    assert WatchlistItem.objects.filter(pk=item.pk).exists()
    assert PriceAlert.objects.filter(pk=alert.pk, armed=False).exists()
    listing = text(client.get("/portfolios/"))
    assert "Long-term holdings" not in listing
    assert watchlist.name not in text(client.get("/watchlists/"))


def test_empty_states_say_how_to_start(auth_client):
    page = text(auth_client.get("/portfolios/"))
    assert "No portfolios yet" in page and "Create your first portfolio" in page
    page = text(auth_client.get("/watchlists/"))
    assert "No watchlists yet" in page
    assert "No alerts yet" in text(auth_client.get("/alerts/"))
    assert "No notifications" in text(auth_client.get("/notifications/"))


def test_portfolio_list_shows_value_and_pnl(auth_client, portfolio):
    page = text(auth_client.get("/portfolios/"))
    assert "Long-term holdings" in page
    assert "1,355.00" in page  # value
    assert "\u2212$145.50" in page  # unrealized, with its currency
    assert "+$98.50" in page  # realized


def test_portfolio_list_total_gain_adds_up_from_the_columns_beside_it(auth_client, portfolio):
    """-145.50 unrealized + 98.50 realized + (19 dividend - 5 fee) = -33.00, each one shown."""
    page = text(auth_client.get("/portfolios/"))
    assert "Income \u2212 fees" in page and "+$14.00" in page
    assert "\u2212$33.00" in page
    assert "Total gain = unrealized P&amp;L + realized P&amp;L + dividends and interest" in page


def test_create_portfolio_form(auth_client, user, market):
    response = auth_client.post(
        "/portfolios/new/", {"name": "Growth", "benchmark": "spy", "track_cash": "on"}
    )
    portfolio = Portfolio.objects.get(owner=user, name="Growth")
    assert response.status_code == 302 and response["Location"] == f"/portfolios/{portfolio.pk}/"
    assert portfolio.benchmark == market["SPY"] and portfolio.track_cash
    page = text(auth_client.get(response["Location"]))
    assert "No transactions yet" in page and "Record a deposit" in page


def test_create_portfolio_form_errors_name_the_field(auth_client, user, market):
    services.portfolio_create(owner=user, name="Growth")
    response = auth_client.post("/portfolios/new/", {"name": "Growth", "benchmark": "NOPE"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "name" in form.errors or "benchmark" in form.errors
    response = auth_client.post("/portfolios/new/", {"name": "Other", "benchmark": "NOPE"})
    assert response.context["form"].errors == {
        "benchmark": ["Unknown ticker 'NOPE': pick a symbol from the list."]
    }
    assert Portfolio.objects.filter(owner=user).count() == 1


def test_detail_page_shows_ledger_figures_chart_data_and_feed(auth_client, portfolio):
    response = auth_client.get(f"/portfolios/{portfolio.pk}/")
    page = text(response)
    assert response.status_code == 200
    assert 'id="pf-chart-data"' in page and 'id="pf-chart"' in page
    assert 'data-feed-url="/api/market-data"' in page
    assert 'data-symbols="XOM,AAPL"' in page
    assert "100.10" in page  # AAPL average cost
    assert "Max drawdown" in page
    assert "Money-weighted" in page
    assert "Allocation by sector" in page and "Energy" in page
    assert re.search(r'class="bar-fill w-\d+"', page)
    assert "style=" not in page and "<style" not in page
    assert "<script>" not in page  # no inline script: json_script only
    chart = response.context["chart"]
    assert chart["series"][-1]["value"] == 1355.0 and chart["benchmarkSymbol"] == "SPY"


def test_transaction_form_creates_and_refuses_with_field_errors(auth_client, portfolio):
    url = f"/portfolios/{portfolio.pk}/transactions/new/"
    data = {
        "type": "sell",
        "trade_date": "2024-02-01",
        "symbol": "aapl",
        "quantity": "50",
        "price": "130",
    }
    response = auth_client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "quantity": ["Sell of 50 AAPL on 2024-02-01 exceeds the 5 held"]
    }
    assert "exceeds the 5 held" in text(response)
    assert portfolio.transactions.count() == 5
    response = auth_client.post(url, {**data, "trade_date": "2024-03-01", "quantity": "5"})
    assert response.context["form"].errors == {
        "trade_date": ["2024-03-01 is in the future; enter a past trade."]
    }
    response = auth_client.post(url, {**data, "quantity": "5", "notes": "<b>took profit</b>"})
    assert response.status_code == 302
    assert portfolio.transactions.count() == 6
    assert (
        portfolio.transactions.get(type="sell", quantity=5, trade_date=dt.date(2024, 2, 1)).notes
        == "took profit"
    )


def test_notes_html_is_shown_as_text(auth_client, portfolio, market):
    # A note stored by an older path, with markup: the page escapes it.
    TransactionFactory(
        portfolio=portfolio,
        ticker=market["AAPL"],
        trade_date=dt.date(2024, 1, 5),
        notes="<img src=x onerror=alert(1)>",
    )
    page = text(auth_client.get(f"/portfolios/{portfolio.pk}/transactions/"))
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # through the service: sanitised to plain text, entities shown as text
    services.transaction_create(
        portfolio=portfolio,
        type="deposit",
        trade_date=dt.date(2024, 1, 5),
        amount="1",
        notes="<b>a</b> &lt;i&gt;",
    )
    page = text(auth_client.get(f"/portfolios/{portfolio.pk}/transactions/"))
    # decoded then stripped to a fixed point: the encoded <i> is markup too, so it goes
    assert portfolio.transactions.get(type="deposit").notes == "a"
    assert "<i>" not in page


def test_edit_and_delete_transaction(auth_client, portfolio):
    fee = portfolio.transactions.get(type="fee")
    url = f"/portfolios/{portfolio.pk}/transactions/{fee.pk}/edit/"
    assert auth_client.get(url).status_code == 200
    response = auth_client.post(url, {"type": "fee", "trade_date": "2024-01-26", "amount": "7.5"})
    assert response.status_code == 302
    fee.refresh_from_db()
    assert fee.amount == D("7.5")
    buy = portfolio.transactions.get(type="buy", ticker__symbol="AAPL")
    response = auth_client.post(f"/portfolios/{portfolio.pk}/transactions/{buy.pk}/delete/")
    assert response.status_code == 400
    assert "would break the history: Sell of 5 AAPL on 2024-01-22 exceeds the 0 held" in text(
        response
    )
    assert Transaction.objects.filter(pk=buy.pk).exists()
    response = auth_client.post(f"/portfolios/{portfolio.pk}/transactions/{fee.pk}/delete/")
    assert response.status_code == 302 and not Transaction.objects.filter(pk=fee.pk).exists()


def test_realized_page(auth_client, portfolio):
    page = text(auth_client.get(f"/portfolios/{portfolio.pk}/realized/"))
    assert "2024" in page and "+$98.50" in page and "$599.00" in page and "short" in page
    empty = PortfolioFactory(owner=portfolio.owner)
    assert "No sales yet" in text(auth_client.get(f"/portfolios/{empty.pk}/realized/"))


def test_edit_portfolio_and_delete(auth_client, portfolio):
    response = auth_client.post(
        f"/portfolios/{portfolio.pk}/edit/", {"name": "Renamed", "benchmark": "SPY"}
    )
    assert response.status_code == 302
    portfolio.refresh_from_db()
    assert portfolio.name == "Renamed"
    response = auth_client.post(
        f"/portfolios/{portfolio.pk}/edit/",
        {"name": "Renamed", "benchmark": "SPY", "track_cash": "on"},
    )
    assert "Tracking cash is not possible with this history" in text(response)
    response = auth_client.post(f"/portfolios/{portfolio.pk}/delete/")
    assert response.status_code == 302
    assert not Portfolio.objects.filter(pk=portfolio.pk).exists()
    assert not Transaction.objects.filter(portfolio_id=portfolio.pk).exists()


def test_watchlist_pages(auth_client, user, market):
    response = auth_client.post("/watchlists/new/", {"name": "Tech"})
    watchlist = Watchlist.objects.get(owner=user)
    assert response["Location"] == f"/watchlists/{watchlist.pk}/"
    response = auth_client.post(f"/watchlists/{watchlist.pk}/items/", {"symbol": "ZZZ"})
    assert response.status_code == 400
    assert response.context["item_form"].errors == {
        "symbol": ["Unknown ticker 'ZZZ': pick a symbol from the list."]
    }
    auth_client.post(
        f"/watchlists/{watchlist.pk}/items/",
        {"symbol": "aapl", "note": "<b>core</b>", "target_above": "130"},
    )
    page = text(auth_client.get("/watchlists/"))
    assert (
        'data-symbol="AAPL"' in page
        and "131.00" in page
        and "core" in page
        and "<b>core" not in page
    )
    assert "AI score" in page and "until it has been scored" in page
    assert 'list="ticker-options"' in page and '<option value="XOM">' in page
    assert ">hit<" in page  # 131 >= 130 target
    item = WatchlistItem.objects.get()
    response = auth_client.post(
        f"/watchlists/{watchlist.pk}/items/{item.pk}/edit/",
        {"note": "x", "target_below": "200", "target_above": "100"},
    )
    assert response.context["form"].errors == {
        "target_below": ["The lower target must be below the upper one."]
    }
    auth_client.post(f"/watchlists/{watchlist.pk}/items/{item.pk}/remove/")
    assert not WatchlistItem.objects.exists()
    auth_client.post(f"/watchlists/{watchlist.pk}/rename/", {"name": "Chips"})
    watchlist.refresh_from_db()
    assert watchlist.name == "Chips"


def test_alerts_list_shows_how_far_each_armed_alert_is(auth_client, user, market):
    """AAPL is at 131: 150 above is +14.50% away, 120 below is -8.40% (U+2212) away."""
    PriceAlert.objects.create(owner=user, ticker=market["AAPL"], direction="above", threshold=150)
    PriceAlert.objects.create(owner=user, ticker=market["AAPL"], direction="below", threshold=120)
    page = text(auth_client.get("/alerts/"))
    assert ">Away<" in page and "+14.50%" in page and "\u22128.40%" in page


def test_alert_pages(auth_client, user, market):
    response = auth_client.post(
        "/alerts/", {"symbol": "AAPL", "direction": "above", "threshold": "0"}
    )
    assert response.status_code == 400 and "threshold" in response.context["form"].errors
    response = auth_client.post(
        "/alerts/", {"symbol": "aapl", "direction": "above", "threshold": "150"}
    )
    assert response.status_code == 302
    alert = PriceAlert.objects.get(owner=user)
    assert services.alert_check(alert=alert, price=D("151")) == "fired"
    page = text(auth_client.get("/alerts/"))
    assert "Re-arm" in page and "Firing history" in page and "151.00" in page
    auth_client.post(f"/alerts/{alert.pk}/rearm/")
    alert.refresh_from_db()
    assert alert.armed
    page = text(auth_client.get("/notifications/"))
    assert "Price alert: AAPL rises to or above 150" in page
    # the top bar links to the page and counts the unread one
    assert re.search(r'class="notif-link" href="/notifications/"[^>]*>Notifications <span', page)
    assert 'aria-label="1 unread">1</span>' in page
    auth_client.post("/notifications/read/")
    assert not Notification.objects.filter(user=user, read=False).exists()
    assert "unread" not in text(auth_client.get("/alerts/"))
    auth_client.post(f"/alerts/{alert.pk}/delete/")
    assert not PriceAlert.objects.exists()


def test_dashboard_panel_shows_first_watchlist(client, user, market):
    watchlist = WatchlistFactory(owner=user, name="Core")
    WatchlistItemFactory(watchlist=watchlist, ticker=market["AAPL"])
    assert "Log in" in text(client.get("/"))
    client.force_login(user)
    page = text(client.get("/"))
    assert 'data-quote="AAPL"' in page and "Core" in page


def test_detail_page_window_uses_the_api_path_and_labels_annualised_figures(auth_client, portfolio):
    # the sample portfolio is worth 2000 on every close from 2024-01-03 to 01-19: TWR 0
    page = text(auth_client.get(f"/portfolios/{portfolio.pk}/"))
    # range buttons are links with the same ?start= the API takes; Max is the default
    assert 'href="?start=2024-01-12"' in page  # 1M before the last close, 2024-02-12
    assert re.search(r'class="button small active" href="\?"[^>]*aria-current="true">Max<', page)
    assert "Under a year: the return over the period. A year or longer: per year (/yr)." in page
    assert "/yr</span>" not in page  # six weeks of history: nothing is annualised
    response = auth_client.get(
        f"/portfolios/{portfolio.pk}/", {"start": "2024-01-10", "end": "2024-01-19"}
    )
    assert response.status_code == 200
    performance = response.context["performance"]
    assert performance.as_of == dt.date(2024, 1, 19)
    assert performance.window.days == 9 and performance.window.twr == pytest.approx(0)
    assert response.context["chart"]["series"][0]["time"] == "2024-01-10"
    assert "Chosen window" in text(response)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"start": "nope"}, "start"), ({"start": "2024-01-19", "end": "2024-01-10"}, "start")],
)
def test_detail_page_bad_window_is_400_naming_the_field(auth_client, portfolio, params, field):
    response = auth_client.get(f"/portfolios/{portfolio.pk}/", params)
    assert response.status_code == 400
    assert f"{field}: " in text(response) and "Showing the whole history instead." in text(response)
    assert response.context["performance"].start is None


def test_watchlist_alert_link_prefills_the_target(auth_client, user, market):
    watchlist = WatchlistFactory(owner=user)
    WatchlistItemFactory(watchlist=watchlist, ticker=market["AAPL"], target_below=D("95.50"))
    WatchlistItemFactory(watchlist=watchlist, ticker=market["XOM"])
    page = text(auth_client.get(f"/watchlists/{watchlist.pk}/"))
    assert 'href="/alerts/?symbol=AAPL&amp;direction=below&amp;threshold=95.5"' in page
    assert 'href="/alerts/?symbol=XOM"' in page
    form = auth_client.get("/alerts/?symbol=AAPL&direction=below&threshold=95.5").context["form"]
    assert form.initial == {"symbol": "AAPL", "direction": "below", "threshold": D("95.5")}
    junk = auth_client.get("/alerts/?symbol=AB&direction=sideways&threshold=NaN")
    assert junk.status_code == 200
    assert junk.context["form"].initial == {"symbol": "AB", "direction": "above"}
    # A control character is refused before the view (qunex.middleware), naming the field.
    assert auth_client.get("/alerts/?symbol=A%00B").status_code == 400


def test_forms_say_ticker_like_every_filter_on_the_site(auth_client, market, client):
    """One wording: the alert form, the news and insider filters all label the field "Ticker"
    (no "Symbol:" with Django's colon)."""
    for page in (
        text(auth_client.get("/alerts/")),
        text(client.get("/news/")),
        text(client.get("/insiders/")),
    ):
        assert re.search(r"<label for=\"[^\"]+\">Ticker</label>", page)
        assert "Symbol:" not in page
