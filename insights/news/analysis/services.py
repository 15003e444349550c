"""Writing analyses: `news_analyse` picks articles, analyses them, stores each atomically.

1. Mode: Claude when ANTHROPIC_API_KEY is set (unless `offline=True`), else the word list.
2. Selection: Claude takes articles with no analysis, an offline one (unless Claude already
   failed on it for a non-transient reason), or a failure caused only by transient API errors
   (`reanalyse` adds every AI, offline and failed one); the word list takes articles with no
   analysis (`reanalyse` adds offline and failed ones; it never replaces an AI analysis).
   Newest first, `limit` at most, loaded in batches of NEWS_ANALYSIS_BATCH_SIZE.
3. Claude: each article gets at most two attempts (one retry); a failure, refusal, missing tool
   call or invalid output after both is stored as status "failed" with the reason, never with
   default values. An article that had an offline analysis keeps it (its sentiment is real);
   the failure reason and the tokens spent are recorded on it instead. An authentication
   error (or an unknown model) stops the run, and so do three articles in a row failed on
   transient API errors (429, 5xx, timeout: the API is down). Before each article the run
   checks the spending cap (NEWS_ANALYSIS_MAX_COST_USD) and stops when it is reached,
   counting what was left.
4. Time: one article may cost at most NEWS_ANALYSIS_ARTICLE_SECONDS (both attempts, every
   request and retry wait), and the run stops starting articles once NEWS_ANALYSIS_RUN_SECONDS
   have passed, counting what was left (`left_by_deadline`), so analyze_news ends inside its
   workflow's timeout however the API hangs. A broken answer (not JSON, text/plain, `{}`)
   fails its article like any other bad answer; the run goes on.
5. Each article's analysis and its ticker sentiments are written in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from insights.news.analysis.claude import (
    MIN_REQUEST_SECONDS,
    PROMPT_VERSION,
    AnalysisFailed,
    ClaudeAnalysis,
    Usage,
    analyse_with_claude,
    anthropic_client,
)
from insights.news.analysis.offline import offline_sentiment
from insights.news.models import Article, ArticleAnalysis, TickerSentiment
from insights.news.services import published_cutoff
from markets.models import Ticker

ATTEMPTS = 2
# After this many articles in a row failed only on transient API errors, the API is taken
# to be down: the run stops instead of marking every article failed.
TRANSIENT_STREAK_LIMIT = 3
OFFLINE_VERSION = "offline-v3"


@dataclass
class AnalyseResult:
    mode: str  # "ai" or "offline"
    dry_run: bool = False
    selected: int = 0
    analysed: int = 0
    failed: int = 0
    left_by_cap: int = 0
    cap_reached: bool = False
    left_by_deadline: int = 0
    aborted: str = ""
    transient_streak: int = 0
    usage: Usage = field(default_factory=Usage)
    failures: list[str] = field(default_factory=list)

    @property
    def cost_usd(self) -> Decimal:
        return self.usage.cost_usd

    @property
    def whole_run_failed(self) -> bool:
        return bool(self.aborted) or (self.failed > 0 and self.analysed == 0)

    def counts(self) -> dict[str, int]:
        if self.dry_run:
            return {"would_analyse": self.selected}
        out = {"analysed": self.analysed, "failed": self.failed}
        if self.left_by_cap:
            out["left_by_cap"] = self.left_by_cap
        if self.left_by_deadline:
            out["left_by_deadline"] = self.left_by_deadline
        return out

    def note(self) -> str:
        parts = [
            "offline word-list analysis (no Claude)"
            if self.mode == "offline"
            else f"Claude {settings.NEWS_ANALYSIS_MODEL}"
        ]
        if self.mode == "ai" and not self.dry_run:
            parts.append(
                f"{self.usage.input_tokens} in / {self.usage.output_tokens} out tokens, "
                f"${self.cost_usd:.4f}"
            )
        if self.cap_reached:
            parts.append(
                f"spending cap ${settings.NEWS_ANALYSIS_MAX_COST_USD} reached, "
                f"{self.left_by_cap} left for the next run"
            )
        if self.left_by_deadline:
            parts.append(
                f"run deadline of {settings.NEWS_ANALYSIS_RUN_SECONDS} s reached, "
                f"{self.left_by_deadline} left for the next run"
            )
        if self.aborted:
            parts.append(f"stopped: {self.aborted}")
        if self.dry_run:
            parts.append("dry run, nothing written")
        return "; ".join(parts)


def _select(*, mode: str, reanalyse: bool, article_ids: Iterable[int] | None) -> list[int]:
    qs = Article.objects.all()
    if article_ids is not None:
        qs = qs.filter(pk__in=list(article_ids))
    none = Q(analysis__isnull=True)
    if mode == "ai":
        cond = (
            none
            # An offline analysis is replaced by Claude unless Claude already failed on it
            # for a non-transient reason (recorded on the kept offline analysis).
            | Q(analysis__kind=ArticleAnalysis.Kind.OFFLINE, analysis__failure_reason="")
            | Q(analysis__kind=ArticleAnalysis.Kind.OFFLINE, analysis__failure_retryable=True)
            | Q(
                analysis__status=ArticleAnalysis.Status.FAILED,
                analysis__failure_retryable=True,
            )
        )
        if reanalyse:
            cond |= Q(analysis__kind__in=[ArticleAnalysis.Kind.AI, ArticleAnalysis.Kind.OFFLINE])
    else:
        cond = none
        if reanalyse:
            cond |= Q(analysis__kind=ArticleAnalysis.Kind.OFFLINE) | Q(
                analysis__status=ArticleAnalysis.Status.FAILED
            )
    qs = qs.filter(cond)
    if article_ids is None:  # the queue: never a row dated in the future, it would head it
        qs = qs.filter(published_at__lte=published_cutoff())
    return list(qs.order_by("-published_at", "-id").values_list("pk", flat=True))


def _batches(ids: list[int]) -> Iterator[list[Article]]:
    size = max(1, settings.NEWS_ANALYSIS_BATCH_SIZE)
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        articles = (
            Article.objects.filter(pk__in=chunk)
            .select_related("analysis")
            .prefetch_related("tickers")
        )
        by_id = {a.pk: a for a in articles}
        yield [by_id[i] for i in chunk if i in by_id]


def _store(
    article: Article, defaults: dict[str, Any], tickers: list[tuple[int, float, str]]
) -> None:
    with transaction.atomic():
        analysis, _ = ArticleAnalysis.objects.update_or_create(article=article, defaults=defaults)
        analysis.ticker_sentiments.all().delete()
        TickerSentiment.objects.bulk_create(
            TickerSentiment(analysis=analysis, ticker_id=tid, sentiment=s, reason=r)
            for tid, s, r in tickers
        )


_EMPTY = {
    "failure_reason": "",
    "failure_retryable": False,
    "sentiment": None,
    "label": "",
    "impact": None,
    "summary": "",
    "key_points": [],
    "sectors": [],
    "dropped_tickers": [],
    "evidence": [],
    "model": "",
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
    "cost_usd": Decimal(0),
}


def _usage_fields(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "cost_usd": usage.cost_usd.quantize(Decimal("0.000001")),
    }


def _analyse_offline(article: Article) -> None:
    text = " ".join([article.title, article.description, article.content])
    result = offline_sentiment(text)
    defaults = {
        **_EMPTY,
        "kind": ArticleAnalysis.Kind.OFFLINE,
        "status": ArticleAnalysis.Status.ANALYSED,
        "sentiment": result.sentiment,
        "label": result.label,
        "prompt_version": OFFLINE_VERSION,
        "attempts": 1,
        "analysed_at": timezone.now(),
    }
    tickers = [(t.pk, result.sentiment, "") for t in article.tickers.all()]
    _store(article, defaults, tickers)


def _analyse_ai(
    client: Any,
    article: Article,
    known: dict[str, int],
    result: AnalyseResult,
    *,
    run_deadline_at: float = float("inf"),
):
    linked = sorted(t.symbol for t in article.tickers.all())
    spent = Usage()
    reasons: list[str] = []
    transient = True
    deadline_at = min(time.monotonic() + settings.NEWS_ANALYSIS_ARTICLE_SECONDS, run_deadline_at)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            out = analyse_with_claude(
                client,
                title=article.title,
                description=article.description,
                content=article.content,
                linked_symbols=linked,
                known_symbols=set(known),
                deadline_at=deadline_at,
            )
        except AnalysisFailed as exc:
            spent = spent + exc.usage
            if exc.fatal:
                result.usage = result.usage + spent
                raise
            reasons.append(exc.reason)
            transient = transient and exc.transient
            if time.monotonic() >= deadline_at - MIN_REQUEST_SECONDS:
                break  # no time left for another attempt
            continue
        spent = spent + out.usage
        analysis_store_ai(article=article, analysis=out, known=known, attempts=attempt, usage=spent)
        result.usage = result.usage + spent
        result.analysed += 1
        result.transient_streak = 0
        return
    reason = " | ".join(f"attempt {i}: {r}" for i, r in enumerate(reasons, 1))
    current = getattr(article, "analysis", None)
    if (
        current is not None
        and current.kind == ArticleAnalysis.Kind.OFFLINE
        and current.status == ArticleAnalysis.Status.ANALYSED
    ):
        # Keep the offline sentiment (it is real, and the AI score reads it); note why Claude
        # failed and what the attempts cost on it, so the admin totals stay right.
        total = (
            Usage(
                current.input_tokens,
                current.output_tokens,
                current.cache_read_tokens,
                current.cache_write_tokens,
            )
            + spent
        )
        ArticleAnalysis.objects.filter(pk=current.pk).update(
            failure_reason=f"Claude analysis failed, offline analysis kept: {reason}",
            failure_retryable=transient,
            **_usage_fields(total),
        )
    else:
        _store_failed(article, reason, transient, spent, attempts=len(reasons))
    result.usage = result.usage + spent
    result.failed += 1
    result.failures.append(f"article {article.pk}: {reason}")
    result.transient_streak = result.transient_streak + 1 if transient else 0
    if result.transient_streak >= TRANSIENT_STREAK_LIMIT:
        raise AnalysisFailed(
            f"the API failed {result.transient_streak} articles in a row; last: {reasons[-1]}"
        )


def analysis_store_ai(
    *,
    article: Article,
    analysis: ClaudeAnalysis,
    known: dict[str, int],
    attempts: int = 1,
    usage: Usage | None = None,
    prompt_version: str = PROMPT_VERSION,
) -> None:
    """Store a validated analysis as the article's AI analysis, with its ticker views
    (`known`: symbol -> ticker id), replacing any earlier one. Atomic."""
    defaults = {
        **_EMPTY,
        "kind": ArticleAnalysis.Kind.AI,
        "status": ArticleAnalysis.Status.ANALYSED,
        "sentiment": analysis.sentiment,
        "label": analysis.label,
        "impact": analysis.impact,
        "summary": analysis.summary,
        "key_points": analysis.key_points,
        "dropped_tickers": sorted(set(analysis.dropped_tickers)),
        "sectors": analysis.sectors,
        "evidence": analysis.evidence,
        "model": analysis.model,
        "prompt_version": prompt_version,
        "attempts": attempts,
        "analysed_at": timezone.now(),
        **_usage_fields(usage or analysis.usage),
    }
    tickers = [(known[t.symbol], t.sentiment, t.reason) for t in analysis.tickers]
    _store(article, defaults, tickers)


def _store_failed(
    article: Article, reason: str, transient: bool, spent: Usage, *, attempts: int
) -> None:
    defaults = {
        **_EMPTY,
        "kind": ArticleAnalysis.Kind.AI,
        "status": ArticleAnalysis.Status.FAILED,
        "failure_reason": reason,
        "failure_retryable": transient,
        "model": settings.NEWS_ANALYSIS_MODEL,
        "prompt_version": PROMPT_VERSION,
        "attempts": attempts,
        "analysed_at": timezone.now(),
        **_usage_fields(spent),
    }
    _store(article, defaults, [])


def news_analyse(
    *,
    limit: int | None = None,
    dry_run: bool = False,
    reanalyse: bool = False,
    offline: bool = False,
    article_ids: Iterable[int] | None = None,
    progress: Callable[[Iterable[Article], int], Iterable[Article]] | None = None,
    client: Any = None,
) -> AnalyseResult:
    """Analyse articles (see the module docstring). Never raises for one article's failure."""
    mode = "offline" if offline or not settings.ANTHROPIC_API_KEY else "ai"
    result = AnalyseResult(mode=mode, dry_run=dry_run)
    ids = _select(mode=mode, reanalyse=reanalyse, article_ids=article_ids)
    if limit is not None:
        ids = ids[: max(0, limit)]
    result.selected = len(ids)
    if dry_run or not ids:
        return result
    stream: Iterable[Article] = (a for batch in _batches(ids) for a in batch)
    if progress is not None:
        stream = progress(stream, len(ids))
    if mode == "offline":
        for article in stream:
            _analyse_offline(article)
            result.analysed += 1
        return result
    own_client = client is None
    client = client or anthropic_client()
    try:
        _run_ai(client, stream, len(ids), result)
    finally:
        if own_client:
            client.close()
    return result


def _run_ai(client: Any, stream: Iterable[Article], total: int, result: AnalyseResult) -> None:
    cap = Decimal(str(settings.NEWS_ANALYSIS_MAX_COST_USD))
    known = dict(Ticker.objects.values_list("symbol", "pk"))
    run_deadline_at = time.monotonic() + settings.NEWS_ANALYSIS_RUN_SECONDS
    for done, article in enumerate(stream):
        if result.cost_usd >= cap:
            result.cap_reached = True
            result.left_by_cap = total - done
            return
        if time.monotonic() >= run_deadline_at - MIN_REQUEST_SECONDS:
            result.left_by_deadline = total - done
            return
        try:
            _analyse_ai(client, article, known, result, run_deadline_at=run_deadline_at)
        except AnalysisFailed as exc:
            result.aborted = exc.reason
            return
