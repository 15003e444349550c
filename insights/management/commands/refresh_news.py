"""Fetch news from every configured source and store it (see `insights.news.services`).

    python manage.py refresh_news [--since YYYY-MM-DD] [--tickers AAPL,MSFT] [--limit N] [--dry-run]

The keyless feeds (Federal Reserve, SEC, ...) need no key; NewsAPI, Polygon and Finnhub are
asked when their keys are set. A source that fails is counted (`failed`) and the run goes
on; the command exits non-zero only when every source failed. The vendor sources draw on the
vendors' shared budgets (markets.budget) and wait for them up to NEWS_TIME_BUDGET_SECONDS;
what the budget cannot give is `deferred` to the next run and a source the key's plan does
not include (HTTP 403, remembered for a day) is `not_entitled`: neither is a failure.
Re-running stores nothing twice (canonical URLs are unique).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from insights.news.demo import news_demo_release
from insights.news.providers.base import NewsSource, SourceError
from insights.news.providers.newsapi import NewsApiSource
from insights.news.providers.polygon import PolygonNews
from insights.news.services import Ingestor, article_clamp_future_dates
from insights.news.sources import configured_sources
from markets.budget import run_deadline
from markets.models import Ticker
from qunex.jobs import Job, JobCommand, JobFailed


def _symbols(value: str) -> list[str]:
    symbols = [s.strip().upper() for s in value.split(",") if s.strip()]
    if not symbols or any(
        len(s) > 12 or not s.replace(".", "").replace("-", "").isalnum() for s in symbols
    ):
        raise argparse.ArgumentTypeError("expected comma-separated symbols, e.g. AAPL,MSFT")
    return symbols


def _since(value: str) -> datetime:
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ) from None
    if len(value) <= 10:
        day = datetime.combine(day.date(), time.min)
    return day if day.tzinfo else day.replace(tzinfo=UTC)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


class Command(JobCommand):
    help = "Fetch news from the configured sources (RSS always; NewsAPI/Polygon/Finnhub with keys)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--since", type=_since, help="Oldest publication date (default: 48 h ago)."
        )
        parser.add_argument(
            "--tickers", type=_symbols, help="Comma-separated symbols for the per-ticker sources."
        )
        parser.add_argument("--limit", type=_positive, help="At most N items per source call.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Fetch and match, store nothing."
        )

    def run(self, job: Job, **options: Any) -> str | None:
        since = options.get("since") or timezone.now() - timedelta(
            hours=settings.NEWS_LOOKBACK_HOURS
        )
        limit = options.get("limit")
        # Largest companies first: they are the ones a per-symbol source is asked about when
        # --tickers is not given.
        tickers = dict(
            Ticker.objects.filter(active=True)
            .order_by(F("market_cap").desc(nulls_last=True), "symbol")
            .values_list("symbol", "name")
        )
        explicit = options.get("tickers") or []
        if explicit:
            unknown = [s for s in explicit if s not in tickers]
            if unknown:
                job.count("unknown_symbols", len(unknown))
        largest = list(tickers)[: settings.NEWS_MAX_SYMBOLS]
        sources = configured_sources()
        if not sources:
            return "no source configured (NEWS_RSS_FEEDS is empty and no vendor key is set)"
        ingestor = Ingestor(dry_run=bool(options.get("dry_run")))
        dry_run = bool(options.get("dry_run"))
        clamped = article_clamp_future_dates(dry_run=dry_run)
        if clamped:  # stored before ingest refused future times: given their fetch time
            job.count("would_clamp_future" if dry_run else "future_clamped", clamped)
            job.log(f"{clamped} stored article(s) dated in the future: given their fetch time")
        failures = []
        company_news = False
        with run_deadline(settings.NEWS_TIME_BUDGET_SECONDS):
            for source in job.progress(sources, total=len(sources), desc="sources"):
                company_news = (
                    self._fetch_one(
                        job,
                        source,
                        since=since,
                        explicit=explicit,
                        largest=largest,
                        limit=limit,
                        names=tickers,
                        failures=failures,
                        ingestor=ingestor,
                    )
                    or company_news
                )
        stats = ingestor.stats
        # Real company news replaces seed_demo's articles (official feeds do not).
        if company_news and not options.get("dry_run") and (removed := news_demo_release()):
            job.count("demo_articles_removed", removed)
        job.count("stored" if not options.get("dry_run") else "would_store", stats.created)
        job.count("duplicates", stats.duplicates)
        job.count("grouped", stats.grouped)
        job.count("ticker_links", stats.ticker_links)
        if stats.skipped:
            job.count("malformed", stats.skipped)
        if stats.future:
            job.count("future_dated", stats.future)
            job.log(f"refused {stats.future} item(s) dated more than 5 minutes in the future")
        if failures and len(failures) == len(sources):
            raise JobFailed("every source failed: " + "; ".join(failures)[:1000])
        return ("failed: " + "; ".join(failures)[:500]) if failures else None

    def _fetch_one(
        self,
        job: Job,
        source: NewsSource,
        *,
        since: datetime,
        explicit: list[str],
        largest: list[str],
        limit: int | None,
        names: dict[str, str],
        failures: list[str],
        ingestor: Ingestor,
    ) -> bool:
        """Fetch one source and ingest it; True when it stored company news. Its vendor
        calls are counted per vendor (`calls_polygon`, ...)."""
        budget = source.budget
        calls_before = budget.calls if budget is not None else 0
        try:
            # Call budgets of the free plans: NewsAPI (100 a day) searches per ticker only
            # for explicit --tickers; Polygon (5 a minute) makes one market-wide call
            # (its items carry ticker tags) unless tickers are given; Finnhub (60 a
            # minute) only answers per symbol.
            if isinstance(source, NewsApiSource):
                result = source.fetch(since=since, symbols=explicit, limit=limit, names=names)
            elif isinstance(source, PolygonNews):
                result = source.fetch(since=since, symbols=explicit or None, limit=limit)
            else:
                result = source.fetch(since=since, symbols=explicit or largest, limit=limit)
        except SourceError as exc:
            if exc.deferred or exc.not_entitled:  # the budget or the plan: not a failure
                job.count("deferred" if exc.deferred else "not_entitled")
                job.log(f"{exc} ({'deferred to the next run' if exc.deferred else 'skipped'})")
            else:
                job.count("failed")
                failures.append(str(exc))
                job.log(f"{exc} ({'permanent' if exc.permanent else 'transient'})")
            return False
        finally:
            if budget is not None:
                job.count(f"calls_{source.budget_vendor}", budget.calls - calls_before)
        job.count("sources_ok")
        job.count("fetched", len(result.items))
        if result.skipped:
            job.count("malformed", result.skipped)
            job.log(f"{source.name}: skipped {result.skipped}: {'; '.join(result.reasons[:3])}")
        if result.deferred:
            job.count("deferred")
            job.count("deferred_calls", result.deferred)
            job.log(
                f"{source.name}: {result.deferred} call(s) deferred to the next run "
                f"({result.deferred_reason})"
            )
        before = ingestor.stats.created
        ingestor.ingest(result.items)
        return bool(source.needs_key and ingestor.stats.created > before)
