"""Storing filings (idempotent, amendments supersede point in time), the best known-at time,
the folder loader, the EDGAR refresh through a fake EDGAR on the real session, and the
command's exit status."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from insights.insiders import selectors
from insights.insiders.models import InsiderFiling, InsiderTransaction
from insights.insiders.parser import parse_form4
from insights.insiders.providers.sec import RateLimiter, SecEdgar, SecError, document_url
from insights.insiders.services import filing_store, insiders_refresh
from markets.models import Ticker
from qunex.models import JobRun
from tests.markets import FakeVendor, Reply, fake_session

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sec"
AGENT = "Qunex Tests ops@example.com"


def _record(name: str):
    return parse_form4((FIXTURES / name).read_bytes())


def test_store_is_idempotent_and_links_the_ticker():
    Ticker.objects.create(symbol="AAPL", name="Apple Inc.")
    first = filing_store(
        record=_record("0000950170-26-000101.xml"), accession="A-1", filed_on=date(2026, 11, 21)
    )
    again = filing_store(
        record=_record("0000950170-26-000101.xml"), accession="A-1", filed_on=date(2026, 11, 21)
    )
    assert (first.created, first.transactions, again.created) == (True, 1, False)
    trade = InsiderTransaction.objects.get()
    assert trade.ticker.symbol == "AAPL" and trade.value == Decimal("100000.00")


def test_amendment_replaces_what_it_amends_in_either_order():
    filing_store(
        record=_record("0000950170-26-000101.xml"), accession="orig", filed_on=date(2026, 11, 21)
    )
    result = filing_store(
        record=_record("0000950170-26-000102.xml"), accession="amend", filed_on=date(2026, 11, 22)
    )
    assert result.replaced == 1
    # The original keeps its row (it was what was known until the amendment); pages show
    # the amended view.
    assert InsiderTransaction.objects.count() == 2
    (trade,) = selectors.trades_list()
    assert (trade.filing.accession, trade.price, trade.shares_after) == (
        "amend",
        Decimal("101.25"),
        Decimal("6000"),
    )
    assert InsiderFiling.objects.get(accession="orig").amended_by.accession == "amend"
    # Re-loading the original after its amendment duplicates nothing and shows nothing back.
    filing_store(
        record=_record("0000950170-26-000101.xml"), accession="orig", filed_on=date(2026, 11, 21)
    )
    assert InsiderTransaction.objects.count() == 2
    assert [t.filing.accession for t in selectors.trades_list()] == ["amend"]


def test_original_arriving_after_its_amendment_is_superseded():
    filing_store(
        record=_record("0000950170-26-000102.xml"), accession="amend", filed_on=date(2026, 11, 22)
    )
    filing_store(
        record=_record("0000950170-26-000101.xml"), accession="orig", filed_on=date(2026, 11, 21)
    )
    assert [t.filing.accession for t in selectors.trades_list()] == ["amend"]
    assert InsiderFiling.objects.get(accession="orig").amended_by.accession == "amend"


def test_from_dir_loads_counts_unsafe_and_is_idempotent(tmp_path, capsys):
    for name in (
        "0000950170-26-000101.xml",
        "0000950170-26-000102.xml",
        "0000950170-26-000103.xml",
        "billion_laughs.xml",
        "external_entity.xml",
    ):
        shutil.copy(FIXTURES / name, tmp_path / name)
    call_command("refresh_insider_trades", "--from-dir", str(tmp_path))
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("refresh_insider_trades: succeeded")
    assert "filings 3" in line and "skipped 2" in line and "replaced by amendments 1" in line
    assert selectors.trades_list().count() == 2  # 101 is superseded by its amendment 102
    assert set(InsiderFiling.objects.values_list("accession", flat=True)) == {
        "0000950170-26-000101",
        "0000950170-26-000102",
        "0000950170-26-000103",
    }
    call_command("refresh_insider_trades", "--from-dir", str(tmp_path))
    assert "new filings 0" in capsys.readouterr().out
    assert InsiderTransaction.objects.count() == 3
    assert JobRun.objects.filter(command="refresh_insider_trades").count() == 2


def test_from_dir_dry_run_writes_nothing(tmp_path):
    shutil.copy(FIXTURES / "0000950170-26-000101.xml", tmp_path)
    call_command("refresh_insider_trades", "--from-dir", str(tmp_path), "--dry-run")
    assert InsiderFiling.objects.count() == 0


def test_refuses_without_a_declared_user_agent(settings):
    settings.SEC_USER_AGENT = "Qunex admin@qunex.local"
    with pytest.raises(CommandError, match="SEC_USER_AGENT"):
        call_command("refresh_insider_trades")
    settings.SEC_USER_AGENT = "Qunex"
    with pytest.raises(SecError, match="contact email"):
        SecEdgar()


def test_rate_limiter_spaces_requests_ten_per_second():
    now = [0.0]
    slept = []
    limiter = RateLimiter(10, clock=lambda: now[0], sleep=slept.append)
    for _ in range(5):
        limiter.wait()
    assert slept == pytest.approx([0.1, 0.2, 0.3, 0.4])


def test_document_url_drops_the_rendering_folder():
    assert document_url("320193", "0000950170-26-000101", "xslF345X05/form4.xml") == (
        "https://www.sec.gov/Archives/edgar/data/320193/000095017026000101/form4.xml"
    )


def _edgar(fake: FakeVendor) -> SecEdgar:
    return SecEdgar(user_agent=AGENT, session=fake_session(fake), limiter=RateLimiter(1e6))


def _fake_edgar() -> FakeVendor:
    fake = FakeVendor()
    fake.add(
        "https://www.sec.gov/files/company_tickers.json",
        (FIXTURES / "company_tickers.json").read_bytes(),
    )
    fake.add(
        "https://data.sec.gov/submissions/CIK0000320193.json",
        (FIXTURES / "submissions_CIK0000320193.json").read_bytes(),
    )
    fake.add("https://data.sec.gov/submissions/CIK0000789019.json", Reply(b"busy", status=503))
    for n in ("101", "102", "103", "104"):
        fake.add(
            f"https://www.sec.gov/Archives/edgar/data/320193/000095017026000{n}/form4-{n}.xml",
            (FIXTURES / f"0000950170-26-000{n}.xml").read_bytes(),
        )
    return fake


@time_machine.travel(datetime(2026, 11, 26, 12, tzinfo=UTC), tick=False)
def test_refresh_from_edgar_counts_failures_and_goes_on():
    fake = _fake_edgar()
    report = insiders_refresh(edgar=_edgar(fake), days=7, symbols=["AAPL", "MSFT", "ZZZZ"])
    # AAPL: 4 Form 4/4-A filings within 7 days (the 8-K and the 2025 filing are not read);
    # MSFT's submissions failed and are counted; ZZZZ is not in the SEC map.
    assert (report.companies, report.companies_failed, report.filings) == (2, 1, 4)
    assert len(report.failed) == 1 and "MSFT" in report.failed[0]
    assert selectors.trades_list().count() == 3  # 101 is superseded by its amendment 102
    # Dated by EDGAR's acceptance time, not the bare filing date.
    amend = InsiderFiling.objects.get(accession="0000950170-26-000102")
    assert amend.known_at == datetime(2026, 11, 22, 15, 10, tzinfo=UTC)
    assert all(r.headers["User-Agent"] == AGENT for r in fake.requests)
    again = insiders_refresh(edgar=_edgar(fake), days=7, symbols=["AAPL"])
    assert again.filings == 0  # known accessions are not fetched again


@time_machine.travel(datetime(2026, 11, 26, 12, tzinfo=UTC), tick=False)
def test_command_fails_when_the_whole_source_failed(monkeypatch, settings):
    settings.SEC_USER_AGENT = AGENT
    fake = FakeVendor()
    fake.add("https://www.sec.gov/files/company_tickers.json", Reply(b"denied", status=403))
    monkeypatch.setattr(
        "insights.management.commands.refresh_insider_trades.SecEdgar",
        lambda: _edgar(fake),
    )
    with pytest.raises(CommandError, match="HTTP 403"):
        call_command("refresh_insider_trades", "--tickers", "AAPL")
    assert JobRun.objects.get().status == JobRun.Status.FAILED


def test_real_filings_replace_the_demo_filings(tmp_path, capsys):
    from insights.insiders import demo

    demo.seed(today=date(2026, 3, 2))
    assert InsiderFiling.objects.filter(source="demo").count() == 10
    shutil.copy(FIXTURES / "0000950170-26-000101.xml", tmp_path / "0000950170-26-000101.xml")
    call_command("refresh_insider_trades", "--from-dir", str(tmp_path))
    assert "demo filings removed 10" in capsys.readouterr().out
    assert list(InsiderFiling.objects.values_list("accession", flat=True)) == [
        "0000950170-26-000101"
    ]
