"""The vendor runs: `refresh_market_data` (new daily bars and quotes) and `sync_tickers`
(details, splits, dividends), each through the vendor failover, ticker by ticker, storing
through markets.services.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from markets import calendar
from markets.feedcache import feed_invalidate
from markets.models import DailyBar, Ticker
from markets.providers import (
    AllProvidersFailed,
    Bar,
    Dividend,
    FailoverProvider,
    Provider,
    ProviderError,
    QuoteRecord,
    RateLimited,
    Split,
    TickerInfo,
)
from markets.services import (
    DEMO_SOURCE,
    IngestError,
    UpsertResult,
    _symbol,
    bars_upsert,
    corporate_actions_upsert,
    quotes_upsert,
    ticker_demo_release,
    tickers_upsert,
)
from markets.vendors import market_providers

logger = logging.getLogger(__name__)

T = TypeVar("T")


def last_completed_session(now: datetime | None = None) -> date:
    """The latest NYSE session whose regular close has passed (today's after 16:00 New
    York, or 13:00 on an early-close day)."""
    now = now or timezone.now()
    today = now.astimezone(calendar.NEW_YORK).date()
    session = calendar.session(today)
    if session is not None and now >= session.close:
        return today
    return calendar.last_session(today - timedelta(days=1))


class _RunLimited(Provider):
    """Wraps a vendor for one run: after it answers 429 once it is not asked again until
    the run ends (the failover only remembers that within one call)."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[misc]
        self.batch_quotes = inner.batch_quotes  # type: ignore[misc]
        self.limited: RateLimited | None = None

    def _call(self, method: str, *args: Any) -> Any:
        if self.limited is not None:
            raise self.limited
        try:
            return getattr(self.inner, method)(*args)
        except RateLimited as exc:
            self.limited = exc
            raise

    def daily_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        return self._call("daily_bars", symbol, start, end)

    def quote(self, symbol: str) -> QuoteRecord:
        return self._call("quote", symbol)

    def quotes(self, symbols: Iterable[str]) -> dict[str, QuoteRecord]:
        return self._call("quotes", list(symbols))

    def ticker_details(self, symbol: str) -> TickerInfo:
        return self._call("ticker_details", symbol)

    def splits(self, symbol: str) -> list[Split]:
        return self._call("splits", symbol)

    def dividends(self, symbol: str) -> list[Dividend]:
        return self._call("dividends", symbol)


# --- refresh and sync runs -----------------------------------------------------------------

Progress = Callable[..., Iterable[Any]]


def _no_progress(items: Iterable[T], **kwargs: Any) -> Iterable[T]:
    return items


@dataclass
class RunReport:
    """What a refresh or sync run did: `counts` for the job summary, `failures` per symbol,
    `note` for the summary line, `fatal` when the run as a whole failed."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)
    note: str = ""
    fatal: str = ""
    selected: int = 0  # tickers the run tried (or could not find)
    rate_limited: list[ProviderError] = field(default_factory=list)  # vendors left out after a 429

    def fail(self, symbol: str, reason: str) -> None:
        if symbol not in self.failures:
            self.counts["failed"] += 1
        self.failures[symbol] = reason
        logger.warning("market data %s failed: %s", symbol, reason)

    def add(self, prefix: str, result: UpsertResult) -> None:
        for name in ("created", "updated", "unchanged"):
            self.counts[f"{prefix}_{name}"] += getattr(result, name)


DEFAULT_BACKFILL_DAYS = 3653  # about ten years for a ticker with no bars yet


def _select_tickers(symbols: Sequence[str] | None, report: RunReport) -> list[Ticker]:
    """Named symbols (demo ones too: naming them asks for real data) or every active
    non-demo ticker."""
    if symbols:
        wanted = [_symbol(s) for s in symbols]
        found = {t.symbol: t for t in Ticker.objects.filter(symbol__in=wanted)}
        for missing in sorted(set(wanted) - found.keys()):
            report.fail(missing, "unknown ticker (add it with sync_tickers --tickers)")
        return [found[s] for s in dict.fromkeys(wanted) if s in found]
    return list(Ticker.objects.active().filter(is_demo=False))


def market_data_refresh(
    *,
    symbols: Sequence[str] | None = None,
    since: date | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    providers: Sequence[Provider] | None = None,
    backfill_days: int = DEFAULT_BACKFILL_DAYS,
    now: datetime | None = None,
    progress: Progress = _no_progress,
    log: Callable[[str], None] = logger.info,
) -> RunReport:
    """Fetch new daily bars and the latest quotes and store them.

    1. Tickers: the named ones, else every active non-demo ticker; the stalest first;
       `limit` keeps the first N.
    2. Window per ticker: from the day after its last stored bar (or `since`, or
       `backfill_days` back when it has none) to the last completed NYSE session; a ticker
       whose window holds no session is up to date and not fetched.
    3. Bars per ticker through the vendor failover; each ticker is stored in its own
       transaction, so a vendor failure or a bad answer fails that ticker only.
    4. Quotes for every selected ticker in one batched call where the vendor batches.
    5. dry_run: everything runs inside one transaction that is rolled back at the end, so
       the counts say what a real run would write.
    """
    report = RunReport()
    providers = market_providers() if providers is None else list(providers)
    tickers = _select_tickers(symbols, report)
    if not tickers:
        if symbols:
            report.fatal = "none of the named tickers exists"
        elif Ticker.objects.filter(is_demo=True).exists():
            vendor = "no real tickers to refresh" if providers else "no vendor configured"
            report.note = f"{vendor}; demo data only"
        else:
            report.note = "no tickers yet: add some with sync_tickers --tickers AAPL,MSFT"
        return report
    if not providers:
        if symbols:
            report.fatal = "no vendor configured: set POLYGON_API_KEY, FINNHUB_API_KEY or ALPHA_VANTAGE_API_KEY"
        else:
            report.fatal = (
                f"no vendor configured for {len(tickers)} real ticker(s): set "
                "POLYGON_API_KEY, FINNHUB_API_KEY or ALPHA_VANTAGE_API_KEY"
            )
        return report

    end = last_completed_session(now)
    last = dict(
        DailyBar.objects.filter(ticker__in=tickers)
        .exclude(source=DEMO_SOURCE)
        .order_by()
        .values("ticker_id")
        .annotate(last=Max("date"))
        .values_list("ticker_id", "last")
    )
    tickers.sort(key=lambda t: (last.get(t.pk) or date.min, t.symbol))
    if limit is not None:
        tickers = tickers[:limit]
    failover = FailoverProvider([_RunLimited(p) for p in providers])

    with transaction.atomic() if dry_run else nullcontext():
        for ticker in progress(tickers, total=len(tickers), desc="bars"):
            if since is not None:
                start = since
            elif ticker.pk in last:
                start = last[ticker.pk] + timedelta(days=1)
            else:
                start = end - timedelta(days=backfill_days)
            if not calendar.sessions(start, end):
                report.counts["up_to_date"] += 1
                continue
            _refresh_ticker(ticker, start, end, failover, report, log)

        _refresh_quotes([t for t in tickers if t.symbol not in report.failures], failover, report)
        _judge(
            report,
            failover,
            selected=len({t.symbol for t in tickers} | report.failures.keys()),
        )
        if dry_run:
            transaction.set_rollback(True)
            report.note = "dry run: nothing written"
    return report


def _judge(report: RunReport, failover: FailoverProvider, *, selected: int) -> None:
    """Name the failed tickers in the note, record the vendors that were rate-limited out of
    the run and how many tickers were selected (the command's exit rule reads them), and
    fail the run when every fetched ticker failed."""
    failed = sorted(report.failures)
    if failed:
        more = f" and {len(failed) - 30} more" if len(failed) > 30 else ""
        report.note = f"failed: {', '.join(failed[:30])}{more}"
    report.selected = selected
    report.rate_limited = [
        p.limited for p in failover.providers if getattr(p, "limited", None) is not None
    ]
    attempted = report.counts["fetched"] + report.counts["failed"]
    if attempted and not report.counts["fetched"]:
        report.fatal = f"every ticker failed ({report.counts['failed']}); {report.note}"


def _refresh_ticker(
    ticker: Ticker,
    start: date,
    end: date,
    failover: FailoverProvider,
    report: RunReport,
    log: Callable[[str], None],
) -> None:
    fetched = failover.daily_bars([ticker.symbol], start, end)
    if ticker.symbol in fetched.errors:
        report.fail(ticker.symbol, fetched.errors[ticker.symbol].message)
        log(f"{ticker.symbol}: failed: {fetched.errors[ticker.symbol].message}")
        return
    source = fetched.sources[ticker.symbol]
    bars = [b for b in fetched.results[ticker.symbol] if start <= b.date <= end]
    wrong = {b.symbol for b in bars} - {ticker.symbol}
    if wrong:
        report.fail(ticker.symbol, f"{source} answered with bars for {', '.join(sorted(wrong))}")
        return
    try:
        with transaction.atomic():
            if ticker.is_demo:
                ticker_demo_release(symbols=[ticker.symbol])
                report.counts["demo_released"] += 1
            result = bars_upsert(bars=bars)
    except IngestError as exc:
        report.fail(ticker.symbol, f"{source} sent bars that cannot be stored: {exc}")
        log(f"{ticker.symbol}: failed: {exc}")
        return
    report.counts["fetched"] += 1
    report.counts[f"via_{source}"] += 1
    report.add("bars", result)
    if not bars:
        report.counts["no_bars"] += 1
    log(
        f"{ticker.symbol}: {len(bars)} bar(s) {start}..{end} from {source}: "
        f"{result.created} new, {result.updated} updated"
    )


def _refresh_quotes(tickers: list[Ticker], failover: FailoverProvider, report: RunReport) -> None:
    if not tickers:
        return
    fetched = failover.quotes([t.symbol for t in tickers])
    for symbol, error in fetched.errors.items():
        if isinstance(error, AllProvidersFailed) and not error.attempts:
            continue  # no configured vendor offers quotes
        report.fail(symbol, f"quote: {error.message}")
    good = list(fetched.results.values())
    written = 0
    try:
        with transaction.atomic():
            result = quotes_upsert(quotes=good)
        report.add("quotes", result)
        written = result.written
    except IngestError:
        for record in good:  # find the bad ones; store the rest
            try:
                with transaction.atomic():
                    result = quotes_upsert(quotes=[record])
                report.add("quotes", result)
                written += result.written
            except IngestError as exc:
                report.fail(record.symbol, f"quote from {record.source} cannot be stored: {exc}")
    if written:
        _feed_invalidate_on_commit()


def _feed_invalidate_on_commit() -> None:
    """New quotes show on the polled feed at once rather than when its 5 s cache expires.
    After the commit, so no poller caches the old quotes again in between; never on a
    rolled-back dry run; a cache outage is logged, not a failed run (the feed then catches
    up when its entries expire)."""
    transaction.on_commit(feed_invalidate, robust=True)


def tickers_sync(
    *,
    symbols: Sequence[str] | None = None,
    dry_run: bool = False,
    providers: Sequence[Provider] | None = None,
    progress: Progress = _no_progress,
    log: Callable[[str], None] = logger.info,
) -> RunReport:
    """Ticker details (name, exchange, sector, industry, market cap), splits and dividends
    from the vendors, for the named symbols (created when new) or every active non-demo
    ticker. Each ticker is stored in its own transaction."""
    report = RunReport()
    providers = market_providers() if providers is None else list(providers)
    if symbols:
        wanted = list(dict.fromkeys(_symbol(s) for s in symbols))
    else:
        wanted = list(
            Ticker.objects.active().filter(is_demo=False).values_list("symbol", flat=True)
        )
    if not wanted:
        demo = Ticker.objects.filter(is_demo=True).exists()
        report.note = (
            "no real tickers to sync; demo data only" if demo else "no tickers: pass --tickers"
        )
        return report
    if not providers:
        report.fatal = (
            "no vendor configured: set POLYGON_API_KEY, FINNHUB_API_KEY or ALPHA_VANTAGE_API_KEY"
        )
        return report
    failover = FailoverProvider([_RunLimited(p) for p in providers])
    with transaction.atomic() if dry_run else nullcontext():
        for symbol in progress(wanted, total=len(wanted), desc="tickers"):
            details = failover.ticker_details([symbol])
            if symbol in details.errors:
                report.fail(symbol, details.errors[symbol].message)
                continue
            splits = _optional(failover.splits([symbol]), symbol, report)
            dividends = _optional(failover.dividends([symbol]), symbol, report)
            try:
                with transaction.atomic():
                    info = details.results[symbol]
                    report.add("tickers", tickers_upsert(infos=[replace(info, symbol=symbol)]))
                    report.add(
                        "actions", corporate_actions_upsert(splits=splits, dividends=dividends)
                    )
            except IngestError as exc:
                report.fail(symbol, str(exc))
                continue
            report.counts["synced"] += 1
            log(f"{symbol}: {info.name} ({details.sources[symbol]})")
        if report.counts["failed"] and not report.counts["synced"]:
            report.fatal = f"every ticker failed ({report.counts['failed']})"
        if dry_run:
            transaction.set_rollback(True)
            report.note = "dry run: nothing written"
    return report


def _optional(fetched: Any, symbol: str, report: RunReport) -> list[Any]:
    """Splits/dividends: a vendor that does not offer them is not a failure; one that
    failed is logged and counted, and the ticker's details are still stored."""
    if symbol in fetched.errors:
        error: ProviderError = fetched.errors[symbol]
        if isinstance(error, AllProvidersFailed) and not error.attempts:
            return []
        report.counts["actions_failed"] += 1
        logger.warning("corporate actions for %s failed: %s", symbol, error)
        return []
    return [replace(r, symbol=symbol) for r in fetched.results[symbol]]  # as we spell it
