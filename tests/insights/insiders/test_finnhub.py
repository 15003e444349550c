"""Finnhub insider transactions: the second source, for companies EDGAR could not give."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from insights.insiders.models import InsiderFiling, InsiderTransaction
from insights.insiders.providers.finnhub import FinnhubInsiders, parse_insider_transactions
from insights.insiders.providers.sec import RateLimiter, SecEdgar, SecError
from insights.insiders.services import insiders_refresh
from tests.markets import FakeVendor, Reply, fake_session

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SEC = FIXTURES / "sec"
FINNHUB = "https://finnhub.io/api/v1/stock/insider-transactions"


def _body():
    import json

    return json.loads((FIXTURES / "finnhub" / "insider_transactions_TSLA.json").read_text())


def test_rows_become_one_filing_per_insider_and_day():
    filings, skipped = parse_insider_transactions(
        _body(), symbol="TSLA", start=date(2026, 11, 1), end=date(2026, 11, 30)
    )
    assert len(skipped) == 2  # no code; no name
    by_name = {record.insider_name: (acc, filed, record) for acc, filed, record in filings}
    assert set(by_name) == {"Kirkhorn Zachary", "Denholm Robyn M"}
    acc, filed, record = by_name["Kirkhorn Zachary"]
    assert acc.startswith("finnhub:TSLA:2026-11-20:") and filed == date(2026, 11, 20)
    sale, exercise = record.transactions
    assert (sale.code, sale.acquired, sale.shares, sale.shares_after) == (
        "S",
        False,
        Decimal("10500"),
        Decimal("57234"),
    )
    assert (exercise.code, exercise.acquired, exercise.row) == ("M", True, 1)
    with pytest.raises(SecError):
        parse_insider_transactions(
            {"error": "x"}, symbol="TSLA", start=date(2026, 1, 1), end=date(2026, 12, 31)
        )


def _edgar(fake):
    return SecEdgar(
        user_agent="Qunex Tests ops@example.com",
        session=fake_session(fake),
        limiter=RateLimiter(1e6),
    )


@time_machine.travel(datetime(2026, 11, 26, 12, tzinfo=UTC), tick=False)
def test_finnhub_fills_in_for_companies_edgar_could_not_give_and_reruns_store_nothing_twice():
    fake = FakeVendor()
    fake.add(
        "https://www.sec.gov/files/company_tickers.json",
        (SEC / "company_tickers.json").read_bytes(),
    )
    fake.add("https://data.sec.gov/submissions/CIK0000789019.json", Reply(b"busy", status=503))
    fake.add(
        FINNHUB,
        (FIXTURES / "finnhub" / "insider_transactions_TSLA.json").read_bytes(),
        params={"symbol": "TSLA"},
    )
    fake.add(FINNHUB, b'{"data": [], "symbol": "MSFT"}', params={"symbol": "MSFT"})
    fallback = FinnhubInsiders(api_key="k", session=fake_session(fake))
    # TSLA is not in the (two-company) SEC map; MSFT's EDGAR submissions fail.
    report = insiders_refresh(
        edgar=_edgar(fake), days=30, symbols=["TSLA", "MSFT"], fallback=fallback
    )
    assert report.companies_failed == 0 and report.filings == 2
    assert InsiderTransaction.objects.filter(filing__source="finnhub").count() == 3
    buy = InsiderTransaction.objects.get(code="P")
    assert buy.filing.issuer_symbol == "TSLA" and buy.value == Decimal("1200500.00")
    insiders_refresh(edgar=_edgar(fake), days=30, symbols=["TSLA"], fallback=fallback)
    assert InsiderFiling.objects.count() == 2 and InsiderTransaction.objects.count() == 3


@time_machine.travel(datetime(2026, 11, 26, 12, tzinfo=UTC), tick=False)
def test_a_failed_ticker_map_falls_back_when_a_second_source_is_set():
    fake = FakeVendor()
    fake.add("https://www.sec.gov/files/company_tickers.json", Reply(b"denied", status=403))
    fake.add(FINNHUB, (FIXTURES / "finnhub" / "insider_transactions_TSLA.json").read_bytes())
    with pytest.raises(SecError):
        insiders_refresh(edgar=_edgar(fake), days=30, symbols=["TSLA"])
    report = insiders_refresh(
        edgar=_edgar(fake),
        days=30,
        symbols=["TSLA"],
        fallback=FinnhubInsiders(api_key="k", session=fake_session(fake)),
    )
    assert report.filings == 2 and InsiderTransaction.objects.count() == 3
