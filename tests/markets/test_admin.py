"""Staff admin for market data: pages load with a constant query count, the bars list never
counts the whole table, and the refresh action calls the same service as the command."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from markets.models import CorporateAction, DailyBar, Ticker
from markets.providers import Bar, Provider, QuoteRecord
from tests.factories import DailyBarFactory, QuoteFactory, TickerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def make_rows(n: int, *, start: int = 0) -> None:
    for i in range(start, start + n):
        ticker = TickerFactory(symbol=f"S{i:03d}")
        DailyBarFactory(ticker=ticker, date=date(2026, 11, 2))
        QuoteFactory(ticker=ticker)
        CorporateAction.objects.create(
            ticker=ticker,
            kind="dividend",
            ex_date=date(2026, 8, 11),
            amount=Decimal("0.25"),
            source="t",
        )


@pytest.mark.parametrize("model", ["ticker", "dailybar", "quote", "corporateaction"])
def test_changelists_load_with_the_same_queries_for_1_and_50_rows(staff_client, model):
    url = reverse(f"admin:markets_{model}_changelist")
    make_rows(1)
    staff_client.get(url)  # warm the per-process caches (content types, site)
    with CaptureQueriesContext(connection) as one:
        assert staff_client.get(url).status_code == 200
    make_rows(49, start=1)
    # session, user, then the changelist: the count, the page of rows with their ticker
    # joined (list_select_related), the sidebar filters' distinct values, and the date
    # hierarchy's years where there is one; none of it per row
    with CaptureQueriesContext(connection) as fifty:
        response = staff_client.get(url)
    assert response.status_code == 200
    assert len(one) == len(fifty)


def test_bars_changelist_never_counts_the_whole_table(staff_client, monkeypatch):
    monkeypatch.setattr("markets.admin.LargeTablePaginator.exact_below", 2)
    make_rows(3)
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(reverse("admin:markets_dailybar_changelist"))
    assert response.status_code == 200
    full_counts = [
        q["sql"]
        for q in queries
        if "COUNT(*)" in q["sql"] and "WHERE" not in q["sql"] and "markets_dailybar" in q["sql"]
    ]
    assert full_counts == []
    assert response.context["cl"].result_count == 3  # from the id span: 3 rows, no gaps


def test_bars_filter_by_ticker_id_and_exact_symbol(staff_client):
    make_rows(3)
    target = Ticker.objects.get(symbol="S001")
    url = reverse("admin:markets_dailybar_changelist")
    by_id = staff_client.get(url, {"ticker": target.pk})
    by_symbol = staff_client.get(url, {"q": "s001"})
    for response in (by_id, by_symbol):
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == list(
            DailyBar.objects.filter(ticker=target)
        )
    tickers_page = staff_client.get(reverse("admin:markets_ticker_changelist"))
    assert f"?ticker={target.pk}" in tickers_page.content.decode()


def test_ticker_search_and_filters(staff_client):
    TickerFactory(symbol="AAPL", name="Apple Inc.", sector="Information Technology")
    TickerFactory(symbol="XOM", name="Exxon Mobil", sector="Energy", is_demo=True)
    url = reverse("admin:markets_ticker_changelist")
    assert [t.symbol for t in staff_client.get(url, {"q": "apple"}).context["cl"].result_list] == [
        "AAPL"
    ]
    assert [
        t.symbol for t in staff_client.get(url, {"is_demo__exact": "1"}).context["cl"].result_list
    ] == ["XOM"]
    assert [
        t.symbol for t in staff_client.get(url, {"sector": "Energy"}).context["cl"].result_list
    ] == ["XOM"]


def test_change_pages_and_autocomplete_load(staff_client):
    make_rows(1)
    ticker = Ticker.objects.get()
    bar = DailyBar.objects.get()
    assert (
        staff_client.get(reverse("admin:markets_ticker_change", args=[ticker.pk])).status_code
        == 200
    )
    assert (
        staff_client.get(reverse("admin:markets_dailybar_change", args=[bar.pk])).status_code == 200
    )
    autocomplete = staff_client.get(
        reverse("admin:autocomplete"),
        {"term": "S0", "app_label": "markets", "model_name": "dailybar", "field_name": "ticker"},
    )
    assert autocomplete.status_code == 200
    assert autocomplete.json()["results"][0]["text"] == "S000"


class OneVendor(Provider):
    name = "polygon"
    batch_quotes = True

    def __init__(self) -> None:
        super().__init__("key", session=None)  # type: ignore[arg-type]

    def daily_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        if symbol == "BAD":
            from markets.providers import ProviderError

            raise ProviderError("HTTP 500", permanent=False, vendor=self.name, symbol=symbol)
        one = Decimal(10)
        return [Bar(symbol, end, one, one, one, one, one, 1, self.name)]  # adjusted, as Polygon

    def quotes(self, symbols):
        now = datetime(2026, 11, 24, 22, tzinfo=UTC)
        return {s: QuoteRecord(s, Decimal(10), None, None, None, now, self.name) for s in symbols}


@time_machine.travel(datetime(2026, 11, 24, 22, tzinfo=UTC), tick=False)
def test_refresh_action_refreshes_the_selected_tickers(staff_client, monkeypatch):
    monkeypatch.setattr("markets.refresh.market_providers", lambda: [OneVendor()])
    good = TickerFactory(symbol="GOOD", is_demo=False)
    bad = TickerFactory(symbol="BAD", is_demo=False)
    other = TickerFactory(symbol="OTHER", is_demo=False)
    for t in (good, bad, other):
        DailyBarFactory(ticker=t, date=date(2026, 11, 24) - timedelta(days=4), source="polygon")
    response = staff_client.post(
        reverse("admin:markets_ticker_changelist"),
        {"action": "refresh_selected", "_selected_action": [good.pk, bad.pk]},
        follow=True,
    )
    assert response.status_code == 200
    texts = [str(m) for m in get_messages(response.wsgi_request)] or [
        str(m) for m in response.context["messages"]
    ]
    assert any(
        "Refreshed 2 ticker(s)" in t and "bars_created 1" in t and "failed 1" in t for t in texts
    )
    assert any(t.startswith("BAD: polygon (BAD): HTTP 500") for t in texts)
    assert good.bars.filter(date=date(2026, 11, 24)).exists()
    assert not other.bars.filter(date=date(2026, 11, 24)).exists()


def test_refresh_action_without_a_vendor_says_so(staff_client, monkeypatch):
    monkeypatch.setattr("markets.refresh.market_providers", lambda: [])
    ticker = TickerFactory(symbol="AAPL", is_demo=False)
    response = staff_client.post(
        reverse("admin:markets_ticker_changelist"),
        {"action": "refresh_selected", "_selected_action": [ticker.pk]},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert any("Refresh failed: no vendor configured" in t for t in texts)


def test_bars_changelist_scans_nothing_on_the_whole_table(staff_client):
    # measured on the demo data (165,546 bars, PostgreSQL): 0.195 s -> 0.047 s, 7 -> 4 queries
    make_rows(3)
    url = reverse("admin:markets_dailybar_changelist")
    staff_client.get(url)  # warm the per-process caches (content types, site)
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(url)
    assert response.status_code == 200
    sql = [q["sql"] for q in queries if "markets_dailybar" in q["sql"]]
    assert not [s for s in sql if "DISTINCT" in s or "DATE_TRUNC" in s.upper()]
    page = next(s for s in sql if '"markets_dailybar"."open"' in s)
    assert 'ORDER BY "markets_dailybar"."id" DESC' in page  # the primary key index, no sort
    # session, user, the id span, the exact count (a table under 50,000 rows), the page
    assert len(queries) == 5


def test_admin_index_has_one_accounts_section(staff_client):
    apps = staff_client.get(reverse("admin:index")).context["app_list"]
    names = [a["name"] for a in apps]
    assert names.count("Accounts") == 1
    assert not {"Authentication and Authorization", "MFA", "Auth Token"} & set(names)
    accounts = next(a for a in apps if a["name"] == "Accounts")
    assert {m["object_name"] for m in accounts["models"]} >= {
        "User",
        "Group",
        "EmailAddress",
        "Authenticator",
        "TokenProxy",
        "Profile",
    }
