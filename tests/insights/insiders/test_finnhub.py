"""Finnhub insider transactions: the second source, for companies EDGAR could not give."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from insights.insiders.models import InsiderFiling, InsiderTransaction
from insights.insiders.providers.finnhub import FinnhubInsiders, parse_insider_transactions
from insights.insiders.providers.sec import RateLimiter, SecEdgar, SecError
from insights.insiders.services import insiders_refresh
from qunex.models import JobRun
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
    # Each company counted once; MSFT's EDGAR failure was covered by Finnhub: not failed.
    assert report.companies == 2 and report.failed == []
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


def test_companies_finnhub_had_no_budget_for_are_deferred_not_failed(monkeypatch, settings, capsys):
    """Finnhub's shared budget (1 call a minute here, no time to wait) gives one company a call
    a run: the others are deferred, not failed; the run stays green, its summary shows them
    apart, and the next run (a minute later) asks the next company."""
    settings.SEC_USER_AGENT = "Qunex Tests ops@example.com"
    settings.FINNHUB_API_KEY = "k-deferred"
    settings.FINNHUB_CALLS_PER_MINUTE = 1
    settings.FINNHUB_CALLS_PER_DAY = 0
    settings.INSIDER_FINNHUB_SECONDS = 0
    fake = FakeVendor()
    fake.add("https://www.sec.gov/files/company_tickers.json", Reply(b"denied", status=403))
    fake.add(
        FINNHUB,
        (FIXTURES / "finnhub" / "insider_transactions_TSLA.json").read_bytes(),
        params={"symbol": "TSLA"},
    )
    fake.add(FINNHUB, b'{"data": [], "symbol": "MSFT"}', params={"symbol": "MSFT"})
    command = "insights.management.commands.refresh_insider_trades"
    monkeypatch.setattr(f"{command}.SecEdgar", lambda: _edgar(fake))
    monkeypatch.setattr(
        f"{command}.FinnhubInsiders", lambda: FinnhubInsiders(session=fake_session(fake))
    )
    with time_machine.travel(datetime(2026, 11, 26, 12, tzinfo=UTC), tick=False):
        call_command("refresh_insider_trades", "--tickers", "TSLA,MSFT,NVDA", verbosity=2)
    out = capsys.readouterr().out
    line = out.strip().splitlines()[-1]
    assert line.startswith("refresh_insider_trades: succeeded"), line
    assert "deferred 2" in line and "failed 0" in line and "filings 2" in line
    assert "deferred to the next run: MSFT, NVDA" in out
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.SUCCEEDED
    assert [r.url.count("symbol=") for r in fake.requests if "finnhub" in r.url] == [1]
    with time_machine.travel(datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC), tick=False):
        report = insiders_refresh(
            edgar=_edgar(fake),
            days=30,
            symbols=["MSFT", "NVDA"],
            fallback=FinnhubInsiders(session=fake_session(fake)),
        )
    assert report.deferred == ["MSFT", "NVDA"] and report.companies_failed == 0
    assert report.failed == []  # the SEC map's 403 is the source failing, not a company
    # A minute later the budget has a call again (its minute tokens expired: cleared here,
    # since Redis expires keys on its own clock): the next run asks MSFT.
    from django.core.cache import cache

    cache.clear()
    with time_machine.travel(datetime(2026, 11, 26, 12, 1, 5, tzinfo=UTC), tick=False):
        again = insiders_refresh(
            edgar=_edgar(fake),
            days=30,
            symbols=["MSFT", "NVDA"],
            fallback=FinnhubInsiders(session=fake_session(fake)),
        )
    assert again.deferred == ["NVDA"] and again.companies_failed == 0
    assert fake.query()["symbol"] == "MSFT"
