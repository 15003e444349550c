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
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from markets import calendar
from markets.budget import budget_purpose, current_deadline, deadline_clock, run_deadline
from markets.feedcache import feed_invalidate
from markets.models import CorporateAction, DailyBar, MarketDataState, Quote, Ticker
from markets.providers import (
    AllProvidersFailed,
    Bar,
    BudgetSpent,
    Dividend,
    FailoverProvider,
    NotEntitled,
    NotFound,
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
    _checked_row,
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
    """Wraps a vendor for one run: once it cannot be asked any more in this run (its shared
    budget has no call left within the run's time, or, without a budget, it answered 429)
    it is not asked again until the run ends. A 429 with a budget only blocks the budget
    for the vendor's Retry-After; the next call waits that out when the run's time allows.
    `vendor_429` counts the vendor's own 429 answers (our budget should prevent them)."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[misc]
        self.batch_quotes = inner.batch_quotes  # type: ignore[misc]
        self.budget = inner.budget
        self.limited: RateLimited | None = None
        self.vendor_429: RateLimited | None = None
        self.blocked_out = False  # left out because the vendor's own 429 blocked the budget

    def _call(self, method: str, *args: Any) -> Any:
        if self.limited is not None:
            raise self.limited
        try:
            return getattr(self.inner, method)(*args)
        except BudgetSpent as exc:
            self.limited = exc
            self.blocked_out = self.vendor_429 is not None and bool(exc.retry_after)
            raise
        except RateLimited as exc:
            self.vendor_429 = exc
            if self.inner.budget is None:
                self.limited = exc
                self.blocked_out = True
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

    def grouped_daily(self, day: date) -> list[Bar]:
        if not hasattr(self.inner, "grouped_daily"):
            raise NotImplementedError
        return self._call("grouped_daily", day)


# --- refresh and sync runs -----------------------------------------------------------------

Progress = Callable[..., Iterable[Any]]


def _no_progress(items: Iterable[T], **kwargs: Any) -> Iterable[T]:
    return items


@dataclass
class RunReport:
    """What a refresh or sync run did: `counts` for the job summary, `failures` per symbol
    (bars or ticker data: what the note names), `quote_failures` apart (a ticker whose bars
    were stored is never named failed for its quote), `note` for the summary line, `fatal`
    when the run as a whole failed."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)
    quote_failures: dict[str, str] = field(default_factory=dict)
    note: str = ""
    fatal: str = ""
    selected: int = 0  # tickers the run tried (or could not find)
    quotes_asked: int = 0
    rate_limited: list[ProviderError] = field(default_factory=list)  # vendor 429s that cost work
    budgets: dict[str, dict[str, Any]] = field(default_factory=dict)  # vendor -> remaining()

    def fail(self, symbol: str, reason: str) -> None:
        if symbol not in self.failures:
            self.counts["failed"] += 1
        self.failures[symbol] = reason
        logger.warning("market data %s failed: %s", symbol, reason)

    def fail_quote(self, symbol: str, reason: str) -> None:
        if symbol not in self.quote_failures:
            self.counts["quotes_failed"] += 1
        self.quote_failures[symbol] = reason

    def add(self, prefix: str, result: UpsertResult) -> None:
        for name in ("created", "updated", "unchanged"):
            self.counts[f"{prefix}_{name}"] += getattr(result, name)


FROM_SETTINGS: Any = object()
DEFAULT_BACKFILL_DAYS = 3653  # about ten years for a ticker with no bars yet
# Converted bars must continue the stored history: a first close below 0.55x or above 1.8x
# the last stored one is a 2:1 (or larger) split we do not know, not a trading day.
JOIN_LOW, JOIN_HIGH = Decimal("0.55"), Decimal("1.8")


def _select_tickers(symbols: Sequence[str] | None, report: RunReport, today: date) -> list[Ticker]:
    """Named symbols (demo ones too: naming them asks for real data) or every active
    non-demo ticker, except those the vendors recently said they have no bars for."""
    if symbols:
        wanted = [_symbol(s) for s in symbols]
        found = {t.symbol: t for t in Ticker.objects.filter(symbol__in=wanted)}
        for missing in sorted(set(wanted) - found.keys()):
            report.fail(missing, "unknown ticker (add it with sync_tickers --tickers)")
        return [found[s] for s in dict.fromkeys(wanted) if s in found]
    retry = today - timedelta(days=settings.REFRESH_UNAVAILABLE_RETRY_DAYS)
    qs = Ticker.objects.active().filter(is_demo=False)
    report.counts["unavailable_skipped"] = qs.filter(bars_unavailable_since__gt=retry).count()
    return list(qs.exclude(bars_unavailable_since__gt=retry))


def market_data_refresh(
    *,
    symbols: Sequence[str] | None = None,
    since: date | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    providers: Sequence[Provider] | None = None,
    backfill_days: int = DEFAULT_BACKFILL_DAYS,
    now: datetime | None = None,
    time_budget: float | object | None = FROM_SETTINGS,
    progress: Progress = _no_progress,
    log: Callable[[str], None] = logger.info,
) -> RunReport:
    """Fetch new daily bars (and, while the market is open, quotes) and store them.

    1. Tickers: the named ones, else every active non-demo ticker not marked unavailable.
    2. Whole market: for each of the last REFRESH_GROUPED_SESSIONS sessions up to the last
       completed one that a loaded ticker lacks and that no run has stored yet, one grouped
       daily call (Polygon: every US stock's adjusted bar for that session) stores the bars
       of every loaded ticker. "Loaded" means its history reaches the session before that
       window, so a grouped bar never leaves a hole behind it.
    3. Per ticker, only for what grouped could not do: new tickers (history backfill of
       `backfill_days`), tickers marked for a refetch (a split after their history was
       stored), tickers whose history stops before the window, and every ticker when no
       vendor has grouped daily. Already-loaded tickers first, then the stalest; `limit`
       keeps the first N. Each ticker in its own transaction; bars that are not adjusted
       (Alpha Vantage) are converted with the known splits or refused (one adjustment
       basis). A ticker no vendor has bars for is marked unavailable, not failed.
    4. Every call draws on the vendor's shared budget and waits for it up to `time_budget`
       seconds from the start (default REFRESH_TIME_BUDGET_SECONDS; None: never wait);
       what does not fit is deferred to the next run, not failed.
    5. Quotes only while the NYSE is open (markets.calendar), in one batch where the vendor
       batches; counted apart from bars.
    6. dry_run: everything runs inside one transaction that is rolled back at the end.
    """
    report = RunReport()
    if time_budget is FROM_SETTINGS:
        time_budget = settings.REFRESH_TIME_BUDGET_SECONDS
    now = now or timezone.now()
    providers = market_providers() if providers is None else list(providers)
    end = last_completed_session(now)
    tickers = _select_tickers(symbols, report, end)
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

    last = _last_bars(tickers)
    failover = FailoverProvider([_RunLimited(p) for p in providers])
    calls_before = _calls(providers)
    with (
        run_deadline(time_budget),
        budget_purpose("bars"),  # Alpha Vantage's day reserves (ALPHA_VANTAGE_DAY_RESERVES)
        transaction.atomic() if dry_run else nullcontext(),
    ):
        if since is None:
            _refresh_grouped(tickers, last, end, failover, report, log)
        work = _per_ticker_work(tickers, last, end, since, backfill_days)
        report.counts["up_to_date"] += len(tickers) - len(work)
        if limit is not None:
            work = work[:limit]
        for ticker, start in progress(work, total=len(work), desc="bars"):
            if all(p.limited is not None for p in failover.providers):
                report.counts["deferred"] += 1  # no vendor has a call left in this run
                continue
            _refresh_ticker(ticker, start, end, failover, report, log, last.get(ticker.pk))

        if calendar.is_open(now):
            quoted = [t for t in tickers if t.symbol not in report.failures]
            # The stalest quotes first: what the budget cannot fit now goes first next run.
            as_of = dict(Quote.objects.filter(ticker__in=quoted).values_list("ticker_id", "as_of"))
            quoted.sort(key=lambda t: (t.pk in as_of, as_of.get(t.pk) or now))
            with run_deadline(_quote_seconds()), budget_purpose("quotes"):
                _refresh_quotes(quoted, failover, report)
        else:
            report.counts["quotes_skipped_market_closed"] += 1
        _count_calls(report, providers, calls_before)
        _judge(
            report,
            failover,
            selected=len({t.symbol for t in tickers} | report.failures.keys()),
        )
        if dry_run:
            transaction.set_rollback(True)
            report.note = "dry run: nothing written"
    return report


def _quote_seconds() -> float | None:
    """The quote step waits at most REFRESH_QUOTE_SECONDS (and never past the run's own
    deadline): the web feed keeps watched quotes fresh; the job only tops up the rest, so an
    hourly run does not spend minutes of CI time waiting for quote calls."""
    outer = current_deadline()
    if outer is None:
        return None
    return max(0.0, min(outer - deadline_clock(), settings.REFRESH_QUOTE_SECONDS))


def _calls(providers: Sequence[Provider]) -> dict[str, int]:
    return {p.name: p.budget.calls for p in providers if p.budget is not None}


def _count_calls(report: RunReport, providers: Sequence[Provider], before: dict[str, int]) -> None:
    """Vendor calls this run took from each budget (`calls_polygon 3`), for the summary."""
    for name, calls in _calls(providers).items():
        if calls - before.get(name, 0):
            report.counts[f"calls_{name}"] += calls - before.get(name, 0)


def _last_bars(tickers: list[Ticker]) -> dict[int, date]:
    return dict(
        DailyBar.objects.filter(ticker__in=tickers)
        .exclude(source=DEMO_SOURCE)
        .order_by()
        .values("ticker_id")
        .annotate(last=Max("date"))
        .values_list("ticker_id", "last")
    )


def _grouped_window(end: date) -> list[date]:
    days = calendar.sessions(end - timedelta(days=3 * settings.REFRESH_GROUPED_SESSIONS), end)
    return days[-settings.REFRESH_GROUPED_SESSIONS :] if settings.REFRESH_GROUPED_SESSIONS else []


def _loaded(ticker: Ticker, last: dict[int, date], window: list[date]) -> bool:
    """History that reaches the session before the grouped window, and no refetch due."""
    if not window or ticker.bars_refetch or ticker.pk not in last:
        return False
    return last[ticker.pk] >= calendar.last_session(window[0] - timedelta(days=1))


def _refresh_grouped(
    tickers: list[Ticker],
    last: dict[int, date],
    end: date,
    failover: FailoverProvider,
    report: RunReport,
    log: Callable[[str], None],
) -> None:
    """Step 2 of market_data_refresh: one grouped call per missing session."""
    window = _grouped_window(end)
    loaded = {t.symbol: t for t in tickers if not t.is_demo and _loaded(t, last, window)}
    vendors = [p for p in failover.providers if hasattr(p.inner, "grouped_daily")]
    if not loaded or not vendors:
        return
    oldest = min(last[t.pk] for t in loaded.values())
    MarketDataState.objects.filter(  # sessions before the window are never asked again
        key__startswith="grouped:", key__lt=f"grouped:{window[0].isoformat()}"
    ).delete()
    done = set(
        MarketDataState.objects.filter(
            key__in=[f"grouped:{d.isoformat()}" for d in window]
        ).values_list("key", flat=True)
    )
    todo = [d for d in window if d > oldest and f"grouped:{d.isoformat()}" not in done]
    for day in todo:
        if not any(last[t.pk] < day for t in loaded.values()):
            continue
        bars = None
        for vendor in vendors:
            try:
                bars = vendor.grouped_daily(day)
                break
            except (NotImplementedError, NotEntitled):
                continue
            except BudgetSpent:
                report.counts["grouped_deferred"] += 1
                continue
            except ProviderError as exc:
                report.counts["grouped_failed"] += 1
                logger.warning("grouped daily %s failed: %s", day, exc)
                continue
        if bars is None:
            return  # the rest waits for the next run (per-ticker fetches fill in meanwhile)
        report.counts["grouped_calls"] += 1
        ours = _storable([b for b in bars if b.symbol in loaded], report)
        if not bars:
            log(f"grouped {day}: no bars yet (published later); asked again next run")
            continue
        try:
            with transaction.atomic():
                result = bars_upsert(bars=ours)
                MarketDataState.objects.update_or_create(
                    key=f"grouped:{day.isoformat()}",
                    defaults={"value": {"bars": len(bars), "stored": len(ours)}},
                )
        except IngestError as exc:
            report.counts["grouped_failed"] += 1
            logger.warning("grouped daily %s cannot be stored: %s", day, exc)
            return
        report.add("bars", result)
        for bar in ours:
            ticker = loaded[bar.symbol]
            last[ticker.pk] = max(last[ticker.pk], bar.date)
        log(f"grouped {day}: {len(ours)} of our tickers in one call ({len(bars)} in the market)")


def _storable(bars: list[Bar], report: RunReport) -> list[Bar]:
    """The bars of a market-wide answer that can be stored: one garbage row (high under
    low, a zero price) is dropped and counted, not a reason to lose the whole session."""
    good = []
    for bar in bars:
        try:
            _checked_row(bar, 0)
        except (ValueError, TypeError, ArithmeticError) as exc:
            report.counts["grouped_bars_rejected"] += 1
            logger.warning("grouped bar %s %s rejected: %s", bar.symbol, bar.date, exc)
            continue
        good.append(bar)
    return good


def _per_ticker_work(
    tickers: list[Ticker],
    last: dict[int, date],
    end: date,
    since: date | None,
    backfill_days: int,
) -> list[tuple[Ticker, date]]:
    """Step 3: (ticker, first day to fetch) for every ticker grouped did not bring up to
    `end`; loaded tickers (catching up) first, then the stalest, then new ones by symbol."""
    work = []
    for ticker in tickers:
        if since is not None:
            start = since
        elif ticker.bars_refetch or ticker.pk not in last:
            start = end - timedelta(days=backfill_days)
        else:
            start = last[ticker.pk] + timedelta(days=1)
        if start <= end and calendar.sessions(start, end):
            work.append((ticker, start))
    work.sort(
        key=lambda w: (
            w[0].pk not in last or w[0].bars_refetch,
            last.get(w[0].pk) or date.min,
            w[0].symbol,
        )
    )
    return work


def _judge(report: RunReport, failover: FailoverProvider, *, selected: int) -> None:
    """Name the tickers whose bars failed in the note (quotes are counted apart), record
    the vendors whose own 429 cost the run work, the budgets left, and how many tickers
    were selected (the command's exit rule reads them); fail the run when every fetched
    ticker failed."""
    failed = sorted(report.failures)
    notes = []
    if failed:
        more = f" and {len(failed) - 30} more" if len(failed) > 30 else ""
        notes.append(f"failed: {', '.join(failed[:30])}{more}")
    if report.counts["unavailable"]:
        notes.append(f"{report.counts['unavailable']} marked unavailable")
    if report.counts["deferred"]:
        notes.append(f"{report.counts['deferred']} deferred to the next run (vendor budget)")
    report.note = "; ".join(notes)
    report.selected = selected
    report.rate_limited = [
        p.vendor_429 for p in failover.providers if p.blocked_out and p.vendor_429 is not None
    ]
    for p in failover.providers:
        if p.budget is not None:
            report.budgets[p.name] = p.budget.remaining()
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
    stored_last: date | None,
) -> None:
    fetched = failover.daily_bars([ticker.symbol], start, end)
    if ticker.symbol in fetched.errors:
        error = fetched.errors[ticker.symbol]
        attempts = getattr(error, "attempts", [])
        if attempts and all(isinstance(a, RateLimited) for a in attempts):
            report.counts["deferred"] += 1  # the budget ran out: next run
            return
        if error.permanent and attempts and all(isinstance(a, NotFound) for a in attempts):
            _mark_unavailable(ticker, report, log, error.message)
            return
        report.fail(ticker.symbol, error.message)
        log(f"{ticker.symbol}: failed: {error.message}")
        return
    source = fetched.sources[ticker.symbol]
    bars = [b for b in fetched.results[ticker.symbol] if start <= b.date <= end]
    if not bars and (stored_last is None or ticker.bars_refetch):
        _mark_unavailable(ticker, report, log, f"no bars from any vendor since {start}")
        return
    wrong = {b.symbol for b in bars} - {ticker.symbol}
    if wrong:
        report.fail(ticker.symbol, f"{source} answered with bars for {', '.join(sorted(wrong))}")
        return
    if any(b.adj_close is None for b in bars):
        bars, refused = _to_adjusted_basis(ticker, bars, source, stored_last)
        if refused:
            report.counts["bars_refused"] += 1
            report.fail(ticker.symbol, refused)
            log(f"{ticker.symbol}: refused: {refused}")
            return
        report.counts["bars_converted"] += len(bars)
    try:
        with transaction.atomic():
            if ticker.is_demo:
                ticker_demo_release(symbols=[ticker.symbol])
                report.counts["demo_released"] += 1
            result = bars_upsert(bars=bars)
            if ticker.bars_refetch or ticker.bars_unavailable_since:
                Ticker.objects.filter(pk=ticker.pk).update(
                    bars_refetch=False, bars_unavailable_since=None
                )
    except IngestError as exc:
        report.fail(ticker.symbol, f"{source} sent bars that cannot be stored: {exc}")
        log(f"{ticker.symbol}: failed: {exc}")
        return
    report.counts["fetched"] += 1
    report.counts["backfilled" if start < end - timedelta(days=60) else "caught_up"] += 1
    report.counts[f"via_{source}"] += 1
    report.add("bars", result)
    if not bars:
        report.counts["no_bars"] += 1
    log(
        f"{ticker.symbol}: {len(bars)} bar(s) {start}..{end} from {source}: "
        f"{result.created} new, {result.updated} updated"
    )


def _mark_unavailable(
    ticker: Ticker, report: RunReport, log: Callable[[str], None], why: str
) -> None:
    """No vendor has bars for it (unknown or delisted): skipped for
    REFRESH_UNAVAILABLE_RETRY_DAYS, so it stops taking budget; not a failure."""
    Ticker.objects.filter(pk=ticker.pk).update(bars_unavailable_since=timezone.now().date())
    report.counts["unavailable"] += 1
    log(f"{ticker.symbol}: marked unavailable ({why})")


def _to_adjusted_basis(
    ticker: Ticker, bars: list[Bar], source: str, stored_last: date | None
) -> tuple[list[Bar], str]:
    """Stored bars are split-adjusted (Polygon's adjusted=true). Bars as traded (Alpha
    Vantage's free daily series) are converted with the splits we know, or refused:

    1. refused when corporate actions have not been synced through the bars' last day
       minus REFRESH_SPLITS_MAX_AGE_DAYS (a split we do not know yet would mix bases);
    2. each bar's prices are multiplied, and its volume divided, by the product of
       ratio_from / ratio_to of every split on or before today whose ex-date is after it;
    3. refused when the first converted close after the stored history jumps from the
       last stored close by a split's size (outside JOIN_LOW..JOIN_HIGH).
    Returns (converted bars after the stored history, reason refused or "")."""
    synced = _state("sync:actions_through").get("date")
    newest = max(b.date for b in bars)
    horizon = newest - timedelta(days=settings.REFRESH_SPLITS_MAX_AGE_DAYS)
    if not synced or date.fromisoformat(synced) < horizon:
        return [], (
            f"{source} bars are not split-adjusted and splits are known only through "
            f"{synced or 'never'}: run sync_tickers first (bars refused, not mixed)"
        )
    splits = list(
        CorporateAction.objects.filter(ticker=ticker, kind=CorporateAction.Kind.SPLIT).values_list(
            "ex_date", "ratio_from", "ratio_to"
        )
    )
    converted = []
    for bar in bars:
        if bar.adj_close is not None:
            converted.append(bar)
            continue
        factor = Decimal(1)
        for ex_date, ratio_from, ratio_to in splits:
            if ex_date > bar.date:
                factor *= Decimal(ratio_from) / Decimal(ratio_to)
        close = _q(bar.close * factor)
        converted.append(
            replace(
                bar,
                open=_q(bar.open * factor),
                high=_q(bar.high * factor),
                low=_q(bar.low * factor),
                close=close,
                adj_close=close,
                volume=int(bar.volume / factor),
            )
        )
    if stored_last is not None and converted:
        stored = (
            DailyBar.objects.filter(ticker=ticker, date=stored_last)
            .values_list("close", flat=True)
            .first()
        )
        after = [b for b in converted if b.date > stored_last]
        if stored and after:
            jump = after[0].close / stored
            if not (JOIN_LOW <= jump <= JOIN_HIGH):
                return [], (
                    f"{source} bars converted with the known splits do not join the stored "
                    f"history: {after[0].close} on {after[0].date} after {stored} on "
                    f"{stored_last}, a split we do not know? (bars refused, not mixed)"
                )
    return [b for b in converted if stored_last is None or b.date > stored_last], ""


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"))


def _state(key: str) -> dict[str, Any]:
    row = MarketDataState.objects.filter(key=key).values_list("value", flat=True).first()
    return row if isinstance(row, dict) else {}


def _set_state(key: str, value: dict[str, Any]) -> None:
    MarketDataState.objects.update_or_create(key=key, defaults={"value": value})


def _refresh_quotes(tickers: list[Ticker], failover: FailoverProvider, report: RunReport) -> None:
    if not tickers:
        return
    report.quotes_asked = len(tickers)
    fetched = failover.quotes([t.symbol for t in tickers])
    for symbol, error in fetched.errors.items():
        attempts = getattr(error, "attempts", None)
        if isinstance(error, AllProvidersFailed) and not attempts:
            report.counts["quotes_not_offered"] += 1  # no configured vendor's plan has quotes
            continue
        if attempts and all(isinstance(a, RateLimited) for a in attempts):
            report.counts["quotes_deferred"] += 1
            continue
        report.fail_quote(symbol, error.message)
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
                report.fail_quote(record.symbol, f"from {record.source} cannot be stored: {exc}")
    if written:
        _feed_invalidate_on_commit()


def _feed_invalidate_on_commit() -> None:
    """New quotes show on the polled feed at once rather than when its 5 s cache expires.
    After the commit, so no poller caches the old quotes again in between; never on a
    rolled-back dry run; a cache outage is logged, not a failed run (the feed then catches
    up when its entries expire)."""
    transaction.on_commit(feed_invalidate, robust=True)


SYNC_PER_TICKER_MAX = 10  # up to this many named tickers: per-ticker details are cheaper


def tickers_sync(
    *,
    symbols: Sequence[str] | None = None,
    dry_run: bool = False,
    providers: Sequence[Provider] | None = None,
    time_budget: float | object | None = FROM_SETTINGS,
    today: date | None = None,
    progress: Progress = _no_progress,
    log: Callable[[str], None] = logger.info,
) -> RunReport:
    """Ticker reference data (name, exchange, asset type, ...), splits and dividends.

    1. Bulk, when a vendor has market-wide reference lists (Polygon) and no more than
       SYNC_PER_TICKER_MAX symbols are named: the active US listing page by page (1000
       tickers a page) updates every ticker of the universe and adds the named ones; then
       every split and dividend since the last sync, market-wide, page by page. Each page
       is stored with its cursor in one transaction, so a run that runs out of time or
       budget stops between pages and the next run resumes there. A split that took
       effect since the last sync marks its ticker's stored history for a refetch (stored
       bars are split-adjusted as of when they were fetched).
    2. Per ticker otherwise (a few named symbols, or vendors without reference lists):
       details, splits and dividends per ticker through the failover, the least recently
       updated tickers first so a run cut short by the budget is continued by the next.
    Calls draw on the vendors' shared budgets within `time_budget` seconds (default
    REFRESH_TIME_BUDGET_SECONDS); what does not fit is deferred, not failed.
    """
    report = RunReport()
    if time_budget is FROM_SETTINGS:
        time_budget = settings.REFRESH_TIME_BUDGET_SECONDS
    today = today or timezone.now().date()
    providers = market_providers() if providers is None else list(providers)
    named = list(dict.fromkeys(_symbol(s) for s in symbols)) if symbols else []
    universe = Ticker.objects.active().filter(is_demo=False)
    if not named and not universe.exists():
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
    bulk = next((p for p in providers if hasattr(p, "reference_page")), None)
    calls_before = _calls(providers)
    with run_deadline(time_budget), transaction.atomic() if dry_run else nullcontext():
        if bulk is not None and (not named or len(named) > SYNC_PER_TICKER_MAX):
            _sync_bulk(bulk, named, today, report, log)
        else:
            wanted = named or list(
                universe.order_by("updated_at", "symbol").values_list("symbol", flat=True)
            )
            _sync_per_ticker(wanted, providers, report, progress, log)
        _count_calls(report, providers, calls_before)
        if report.counts["failed"] and not report.counts["synced"]:
            report.fatal = f"every ticker failed ({report.counts['failed']})"
        if dry_run:
            transaction.set_rollback(True)
            report.note = "dry run: nothing written"
    return report


def _sync_bulk(
    vendor: Provider, named: list[str], today: date, report: RunReport, log: Callable[[str], None]
) -> None:
    wanted = set(named) | set(
        Ticker.objects.active().filter(is_demo=False).values_list("symbol", flat=True)
    )
    listed = _sync_pages(vendor, "tickers", today, report, log, wanted=wanted)
    if listed:
        missing = sorted(set(named) - set(Ticker.objects.values_list("symbol", flat=True)))
        for symbol in missing:
            report.fail(symbol, f"not in {vendor.name}'s active US listing")
    done = {}
    for what in ("splits", "dividends"):
        done[what] = _sync_pages(vendor, what, today, report, log, wanted=wanted)
    if all(done.values()):
        _set_state("sync:actions_through", {"date": today.isoformat()})
    parts = []
    if not listed:
        parts.append("ticker listing")
    parts += [what for what, ok in done.items() if not ok]
    if parts:
        report.note = f"{', '.join(parts)}: stopped between pages; the next run resumes there"


def _sync_pages(
    vendor: Provider,
    what: str,
    today: date,
    report: RunReport,
    log: Callable[[str], None],
    *,
    wanted: set[str],
) -> bool:
    """Page through one reference list from its saved cursor; True when the list is done
    (today already: no call)."""
    key = f"sync:{what}"
    state = _state(key)
    if state.get("done") == today.isoformat():
        return True
    through = _state("sync:actions_through").get("date")
    if what == "splits":
        since = date.fromisoformat(through) if through else today - timedelta(days=3653)
    else:
        lookback = settings.SYNC_DIVIDENDS_LOOKBACK_DAYS
        since = date.fromisoformat(through) if through else today - timedelta(days=lookback)
    cursor = state.get("cursor")
    if cursor:
        since = date.fromisoformat(state.get("since") or since.isoformat())
    refused = 0
    while True:
        try:
            records, next_cursor = vendor.reference_page(  # type: ignore[attr-defined]
                what, cursor=cursor, since=since, until=today + timedelta(days=90)
            )
        except BudgetSpent:
            report.counts[f"{what}_deferred"] += 1
            return False
        except RateLimited as exc:  # the vendor's 429 blocked the budget: wait it out
            refused += 1
            if vendor.budget is not None and refused <= 3:
                continue
            report.rate_limited.append(exc)
            report.fatal = report.fatal or f"{what} listing rate-limited: {exc}"
            return False
        except ProviderError as exc:
            report.counts[f"{what}_failed"] += 1
            report.fatal = report.fatal or f"{what} listing failed: {exc}"
            return False
        report.counts[f"{what}_pages"] += 1
        try:
            with transaction.atomic():
                _store_reference(what, records, wanted, since, today, report)
                if next_cursor:
                    _set_state(key, {"cursor": next_cursor, "since": since.isoformat()})
                else:
                    _set_state(key, {"done": today.isoformat()})
        except IngestError as exc:
            report.counts[f"{what}_failed"] += 1
            report.fatal = report.fatal or f"{what} page cannot be stored: {exc}"
            return False
        log(f"{what}: page of {len(records)} stored")
        if not next_cursor:
            return True
        cursor = next_cursor


def _store_reference(
    what: str, records: list[Any], wanted: set[str], since: date, today: date, report: RunReport
) -> None:
    ours = [r for r in records if _symbol(r.symbol) in wanted]
    if what == "tickers":
        tracked = [r for r in ours if r.asset_type]  # warrants, units, ...: not tracked
        result = tickers_upsert(
            infos=tracked, asset_types={r.symbol: r.asset_type for r in tracked}
        )
        report.add("tickers", result)
        report.counts["synced"] += len(tracked)
        return
    if what == "splits":
        result = corporate_actions_upsert(splits=ours)
        # A split that took effect since the last sync: the stored split-adjusted history
        # of that ticker predates it, so it is fetched again (markets.refresh step 3).
        recent = {s.symbol for s in ours if since < s.ex_date <= today}
        if recent:
            report.counts["bars_refetch_marked"] += (
                Ticker.objects.filter(symbol__in=recent, bars__isnull=False)
                .distinct()
                .update(bars_refetch=True)
            )
    else:
        result = corporate_actions_upsert(dividends=ours)
    report.add("actions", result)


def _sync_per_ticker(
    wanted: list[str],
    providers: Sequence[Provider],
    report: RunReport,
    progress: Progress,
    log: Callable[[str], None],
) -> None:
    failover = FailoverProvider([_RunLimited(p) for p in providers])
    for symbol in progress(wanted, total=len(wanted), desc="tickers"):
        if all(p.limited is not None for p in failover.providers):
            report.counts["deferred"] += 1
            continue
        details = failover.ticker_details([symbol])
        if symbol in details.errors:
            attempts = getattr(details.errors[symbol], "attempts", [])
            if attempts and all(isinstance(a, RateLimited) for a in attempts):
                report.counts["deferred"] += 1
                continue
            report.fail(symbol, details.errors[symbol].message)
            continue
        splits = _optional(failover.splits([symbol]), symbol, report)
        dividends = _optional(failover.dividends([symbol]), symbol, report)
        info = details.results[symbol]
        try:
            with transaction.atomic():
                kinds = {symbol: info.asset_type} if info.asset_type else None
                report.add(
                    "tickers",
                    tickers_upsert(infos=[replace(info, symbol=symbol)], asset_types=kinds),
                )
                report.add("actions", corporate_actions_upsert(splits=splits, dividends=dividends))
        except IngestError as exc:
            report.fail(symbol, str(exc))
            continue
        report.counts["synced"] += 1
        log(f"{symbol}: {info.name} ({details.sources[symbol]})")
    if report.counts["deferred"]:
        report.note = f"{report.counts['deferred']} deferred to the next run (vendor budget)"


def _optional(fetched: Any, symbol: str, report: RunReport) -> list[Any]:
    """Splits/dividends: a vendor that does not offer them is not a failure; one that
    failed is logged and counted, and the ticker's details are still stored."""
    if symbol in fetched.errors:
        error: ProviderError = fetched.errors[symbol]
        if isinstance(error, AllProvidersFailed) and not error.attempts:
            return []
        report.counts["actions_failed"] += 1
        report.fail(symbol, f"corporate actions: {error.message}")  # the run is partial
        return []
    return [replace(r, symbol=symbol) for r in fetched.results[symbol]]  # as we spell it
