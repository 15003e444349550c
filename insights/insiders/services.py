"""Writes of insider filings: each filing stored whole or not at all, idempotently.

Amendment rule: a 4/A (or 5/A) supersedes the filing it amends, which is the latest earlier
original (form without /A) with the same issuer, the same reporting owner and the same period
of report. The original is kept, marked `amended_by`, WITH its transactions (until the
amendment's filing they were what was known); pages show the amendment's rows. An amendment
whose original is not stored yet is stored as it is, and an original that arrives after its
amendment is marked amended at once.

Known-at time (`InsiderFiling.known_at`, what the AI score's features are dated by), best
first: EDGAR's acceptance time (the submissions JSON's `acceptanceDateTime`, UTC, or a
submission header's ACCEPTANCE-DATETIME, New York time); else the end of the filing date
(FILED AS OF DATE, the submissions JSON's `filingDate`, Finnhub's `filingDate`); else the end
of the signature date (ownerSignature/signatureDate); else the end of the last trade date. It
is never before the last trade's day: a filing cannot be public before its trade.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from insights.insiders.models import InsiderFiling, InsiderTransaction
from insights.insiders.parser import FilingParseError, FilingRecord, parse_form4
from insights.insiders.providers.finnhub import FinnhubInsiders
from insights.insiders.providers.sec import FilingRef, Log, SecEdgar, SecError
from markets.models import Ticker

Progress = Callable[..., Iterator]
NEW_YORK = ZoneInfo("America/New_York")


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=NEW_YORK)


def best_known_at(
    *, record: FilingRecord, accepted_at: datetime | None = None, filed_on: date | None = None
) -> datetime:
    """The best known moment a filing became public (see the module docstring)."""
    last_trade = record.last_trade
    if accepted_at is not None:
        if accepted_at.tzinfo is None:
            raise ValueError("accepted_at must be timezone-aware")
        floor = datetime.combine(last_trade, time.min, tzinfo=NEW_YORK) if last_trade else None
        return max(accepted_at, floor) if floor else accepted_at
    day = filed_on or record.signature_date or last_trade or record.period
    if day is None:
        return timezone.now()
    return _end_of(max(day, last_trade) if last_trade else day)


@dataclass(frozen=True)
class StoreResult:
    created: bool
    transactions: int
    replaced: int = 0  # transactions of an amended original that this amendment supersedes


def _original_of(filing: InsiderFiling) -> InsiderFiling | None:
    return (
        InsiderFiling.objects.filter(
            issuer_cik=filing.issuer_cik,
            insider_cik=filing.insider_cik,
            period=filing.period,
            form=filing.form.removesuffix("/A"),
            filed_on__lte=filing.filed_on,
        )
        .exclude(pk=filing.pk)
        .order_by("-filed_on", "-id")
        .first()
    )


def _amendment_of(filing: InsiderFiling) -> InsiderFiling | None:
    return (
        InsiderFiling.objects.filter(
            issuer_cik=filing.issuer_cik,
            insider_cik=filing.insider_cik,
            period=filing.period,
            form=filing.form + "/A",
            filed_on__gte=filing.filed_on,
        )
        .order_by("-filed_on", "-id")
        .first()
    )


@transaction.atomic
def filing_store(
    *,
    record: FilingRecord,
    accession: str,
    filed_on: date | None = None,
    known_at: datetime | None = None,
    url: str = "",
    source: str = "sec",
) -> StoreResult:
    """Store one parsed filing and its transactions under `accession` (unique). Storing the
    same accession again replaces its rows with the same rows: nothing is duplicated.
    `known_at` (EDGAR's acceptance time) or else `filed_on` dates it (`best_known_at`);
    `filed_on` defaults to the New York date of that moment."""
    known_at = best_known_at(record=record, accepted_at=known_at, filed_on=filed_on)
    filed_on = filed_on or known_at.astimezone(NEW_YORK).date()
    ticker = (
        Ticker.objects.filter(symbol=record.issuer_symbol).first() if record.issuer_symbol else None
    )
    fields = {
        "form": record.form,
        "filed_on": filed_on,
        "known_at": known_at,
        "period": record.period,
        "issuer_cik": record.issuer_cik,
        "issuer_name": record.issuer_name,
        "issuer_symbol": record.issuer_symbol,
        "ticker": ticker,
        "insider_cik": record.insider_cik,
        "insider_name": record.insider_name,
        "is_director": record.is_director,
        "is_officer": record.is_officer,
        "officer_title": record.officer_title,
        "is_ten_percent_owner": record.is_ten_percent_owner,
        "is_other": record.is_other,
        "other_text": record.other_text,
        "rule_10b5_1": record.rule_10b5_1,
        "source": source,
        "url": url,
    }
    filing, created = InsiderFiling.objects.select_for_update().update_or_create(
        accession=accession, defaults=fields
    )
    filing.transactions.all().delete()
    replaced = 0
    if filing.form.endswith("/A"):
        original = _original_of(filing)
        if original is not None:
            replaced = original.transactions.count()
            original.amended_by = filing
            original.save(update_fields=["amended_by"])
    else:
        amendment = _amendment_of(filing)
        if amendment is not None:
            filing.amended_by = amendment
            filing.save(update_fields=["amended_by"])
    rows = [
        InsiderTransaction(
            filing=filing,
            table=t.table,
            row=t.row,
            ticker=ticker,
            security_title=t.security_title,
            trade_date=t.trade_date,
            code=t.code,
            acquired=t.acquired,
            shares=t.shares,
            price=t.price,
            value=t.value,
            shares_after=t.shares_after,
            direct=t.direct,
            ownership_nature=t.ownership_nature,
            underlying_title=t.underlying_title,
            underlying_shares=t.underlying_shares,
            exercise_price=t.exercise_price,
            footnotes=list(t.footnotes),
        )
        for t in record.transactions
    ]
    InsiderTransaction.objects.bulk_create(rows)
    return StoreResult(created=created, transactions=len(rows), replaced=replaced)


# --- the refresh run --------------------------------------------------------------------------

ACCESSION = re.compile(r"\d{10}-\d{2}-\d{6}")


@dataclass
class RefreshReport:
    filings: int = 0
    created: int = 0
    transactions: int = 0
    replaced: int = 0
    skipped: list[str] = field(default_factory=list)  # malformed or unsafe documents, bad rows
    failed: list[str] = field(default_factory=list)  # requests that failed
    companies: int = 0
    companies_failed: int = 0
    # companies left for a later run: the vendor's shared budget had no call for them within
    # this run's time (a `deferred` SecError); not failures, the next run asks again
    deferred: list[str] = field(default_factory=list)


def _store(
    report: RefreshReport,
    *,
    data: bytes,
    accession: str,
    filed_on: date | None,
    url: str,
    label: str,
    dry_run: bool,
    known_at: datetime | None = None,
) -> None:
    try:
        record = parse_form4(data)
    except FilingParseError as exc:
        report.skipped.append(f"{label}: {exc}")
        return
    report.skipped.extend(f"{label} {reason}" for reason in record.skipped)
    report.filings += 1
    if dry_run:
        report.transactions += len(record.transactions)
        return
    result = filing_store(
        record=record, accession=accession, filed_on=filed_on, known_at=known_at, url=url
    )
    report.created += int(result.created)
    report.transactions += result.transactions
    report.replaced += result.replaced


_ACCEPTED = re.compile(rb"<ACCEPTANCE-DATETIME>\s*(\d{14})")
_FILED = re.compile(rb"FILED AS OF DATE:\s*(\d{8})")


def submission_times(data: bytes) -> tuple[datetime | None, date | None]:
    """(acceptance time, filing date) from an EDGAR submission header (.txt/.nc), each None
    when absent or unreadable. The header's times are New York time."""
    accepted = filed = None
    if found := _ACCEPTED.search(data[:20_000]):
        try:
            accepted = datetime.strptime(found.group(1).decode(), "%Y%m%d%H%M%S").replace(
                tzinfo=NEW_YORK
            )
        except ValueError:
            accepted = None
    if found := _FILED.search(data[:20_000]):
        try:
            filed = datetime.strptime(found.group(1).decode(), "%Y%m%d").date()
        except ValueError:
            filed = None
    return accepted, filed


def insiders_load_dir(
    *,
    path: Path,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Progress = lambda items, **kw: iter(items),
) -> RefreshReport:
    """Load every .xml/.txt Form 4 under `path` (backfills, offline use). The accession number
    comes from the file name when it has one (0001127602-25-004598.xml), else from a hash of
    the content, so loading the same files again changes nothing. It is dated by the
    submission header's ACCEPTANCE-DATETIME, else its FILED AS OF DATE, else (a bare XML
    document) its signature date, never before its last trade (`best_known_at`)."""
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in {".xml", ".txt", ".nc"})
    if limit:
        files = files[:limit]
    report = RefreshReport()
    for file in progress(files, total=len(files), desc="filings"):
        data = file.read_bytes()
        found = ACCESSION.search(file.name)
        accession = found.group(0) if found else "local-" + hashlib.sha256(data).hexdigest()[:24]
        accepted_at, filed_on = submission_times(data)
        _store(
            report,
            data=data,
            accession=accession,
            filed_on=filed_on,
            known_at=accepted_at,
            url="",
            label=file.name,
            dry_run=dry_run,
        )
    return report


def insiders_refresh(
    *,
    edgar: SecEdgar,
    days: int,
    symbols: list[str] | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    fallback: FinnhubInsiders | None = None,
    log: Log = lambda m: None,
    progress: Progress = lambda items, **kw: iter(items),
) -> RefreshReport:
    """Recent Form 4/4-A filings of the tickers Qunex knows (or `symbols`), fetched from EDGAR
    and stored. A failing company or filing is counted and the run goes on. `fallback`
    (Finnhub) is asked for the companies EDGAR could not give: not in its ticker map, or
    failed. A company the fallback's shared budget had no call for within the run's time is
    `deferred` (the next run asks again), not failed. A failing ticker map with no fallback
    raises `SecError` (the source failed)."""
    try:
        cik_of = edgar.ticker_map()
    except SecError:
        if fallback is None:
            raise
        cik_of = {}
        log("sec: the ticker map failed; every company goes to the second source")
    wanted = symbols or list(
        Ticker.objects.active()
        .filter(is_demo=False)
        .exclude(asset_type=Ticker.AssetType.ETF)
        .values_list("symbol", flat=True)
    )
    since = timezone.now().date() - timedelta(days=days)
    report = RefreshReport()
    refs: list[FilingRef] = []
    second: list[str] = []
    for symbol in progress(wanted, total=len(wanted), desc="companies"):
        cik = cik_of.get(symbol.upper())
        if cik is None:
            log(f"{symbol}: not in the SEC ticker map")
            second.append(symbol)
            continue
        try:
            refs.extend(edgar.recent_filings(cik=cik, since=since))
        except SecError as exc:
            if fallback is not None:  # counted (and failed, or deferred) by the second source
                log(f"{symbol}: EDGAR failed ({exc}); asking {fallback.name}")
                second.append(symbol)
                continue
            report.companies += 1
            report.companies_failed += 1
            report.failed.append(f"{symbol}: {exc}")
            continue
        report.companies += 1
    if fallback is not None:
        _from_second_source(report, fallback, second, since=since, dry_run=dry_run)
    known = set(
        InsiderFiling.objects.filter(accession__in=[r.accession for r in refs]).values_list(
            "accession", flat=True
        )
    )
    todo = [r for r in refs if r.accession not in known]
    if limit:
        todo = todo[:limit]
    for ref in progress(todo, total=len(todo), desc="filings"):
        try:
            data = edgar.document(ref)
        except SecError as exc:
            report.failed.append(f"{ref.accession}: {exc}")
            continue
        _store(
            report,
            data=data,
            accession=ref.accession,
            filed_on=ref.filed_on,
            known_at=ref.accepted_at,
            url=ref.url,
            label=ref.accession,
            dry_run=dry_run,
        )
    return report


def _from_second_source(
    report: RefreshReport,
    source: FinnhubInsiders,
    symbols: list[str],
    *,
    since: date,
    dry_run: bool,
) -> None:
    today = timezone.now().date()
    for symbol in symbols:
        report.companies += 1
        try:
            filings, skipped = source.filings(symbol=symbol, start=since, end=today)
        except SecError as exc:
            if exc.deferred:
                report.deferred.append(symbol)
                continue
            report.companies_failed += 1
            report.failed.append(f"{symbol}: {exc}")
            continue
        report.skipped.extend(skipped)
        for accession, filed_on, record in filings:
            report.filings += 1
            if dry_run:
                report.transactions += len(record.transactions)
                continue
            result = filing_store(
                record=record, accession=accession, filed_on=filed_on, source="finnhub"
            )
            report.created += int(result.created)
            report.transactions += result.transactions
