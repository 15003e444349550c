"""Reads for the news pages, panels and API. Every list runs a fixed number of queries
whatever the number of articles (tickers, analysis, per-ticker sentiments and story members
are prefetched)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from insights.news.models import Article, ArticleAnalysis, ArticleTicker, TickerSentiment
from markets.models import Ticker

SENTIMENT_LABELS = [c[0] for c in ArticleAnalysis.Label.choices]
# Sentiment filter choices: a direction (bullish/bearish) or an exact label.
SENTIMENT_CHOICES = [
    ("bullish", "Positive (> 0.15)"),
    ("bearish", "Negative (< \u22120.15)"),  # a true minus, as every figure on the site
    *ArticleAnalysis.Label.choices,
]


def articles_queryset() -> QuerySet[Article]:
    """Articles with everything a list row or the API shows, prefetched."""
    return (
        Article.objects.select_related("analysis", "story")
        .prefetch_related(
            Prefetch(
                "ticker_links",
                queryset=ArticleTicker.objects.select_related("ticker").order_by("ticker__symbol"),
            ),
            Prefetch(
                "analysis__ticker_sentiments",
                queryset=TickerSentiment.objects.select_related("ticker").order_by(
                    "ticker__symbol"
                ),
            ),
            Prefetch(
                "story__articles",
                queryset=Article.objects.only(
                    "id", "publisher", "source", "url", "title", "story_id", "published_at"
                ).order_by("published_at", "id"),
                to_attr="members",
            ),
        )
        .order_by("-published_at", "-id")
    )


@dataclass
class NewsFilters:
    ticker: str = ""
    watchlist: str = ""  # "", "all" or a watchlist id (the user's own)
    holdings: bool = False
    sentiment: str = ""
    sentiment_min: float | None = None
    sentiment_max: float | None = None
    impact: int | None = None
    source: str = ""
    since: date | None = None
    until: date | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return any(
            [
                self.ticker,
                self.watchlist,
                self.holdings,
                self.sentiment,
                self.sentiment_min is not None,
                self.sentiment_max is not None,
                self.impact,
                self.source,
                self.since,
                self.until,
            ]
        )


def parse_filters(params, *, user=None, strict: bool = False) -> NewsFilters:
    """Read filters from a query dict through `NewsQuery` (bounded fields, qunex.params); a
    bad or repeated value is dropped and named in `errors`. The page's form sends empty
    fields for "any"; with `strict` (the API) an empty value is an error."""
    from insights.news.forms import NewsQuery

    form = NewsQuery(params)
    values = form.values()
    signed_in = user is not None and user.is_authenticated
    personal = {"watchlist", "holdings"}
    f = NewsFilters()
    for name, message in form.problems.items():
        if signed_in or name not in personal:
            f.errors[name] = f"{name}: {message}"
    for name in form.fields:
        if name in f.errors or (name in personal and not signed_in):
            continue
        if strict and "" in (params.getlist(name) if hasattr(params, "getlist") else []):
            f.errors[name] = f"{name}: must not be empty"
        elif values[name] is not None:
            setattr(f, name, values[name].upper() if name == "ticker" else values[name])
    return f


def published(qs: QuerySet[Article]) -> QuerySet[Article]:
    """Only articles published by now (give or take the clock tolerance): a row dated in the
    future (stored before ingest refused such items) never pins the top of a list."""
    from insights.news.services import published_cutoff

    return qs.filter(published_at__lte=published_cutoff())


def filter_articles(qs: QuerySet[Article], f: NewsFilters, *, user=None) -> QuerySet[Article]:
    qs = published(qs)
    if f.ticker:
        qs = qs.filter(ticker_links__ticker__symbol=f.ticker)
    if user is not None and user.is_authenticated:
        from portfolios.selectors import held_symbols_for, watchlist_symbols_for

        if f.watchlist:
            one = None if f.watchlist == "all" else int(f.watchlist)
            symbols = watchlist_symbols_for(user=user, watchlist_id=one)
            qs = qs.filter(ticker_links__ticker__symbol__in=symbols)
        if f.holdings:
            qs = qs.filter(ticker_links__ticker__symbol__in=held_symbols_for(user=user))
    ok = Q(analysis__status=ArticleAnalysis.Status.ANALYSED)
    if f.sentiment == "bullish":
        qs = qs.filter(ok, analysis__sentiment__gt=0.15)
    elif f.sentiment == "bearish":
        qs = qs.filter(ok, analysis__sentiment__lt=-0.15)
    elif f.sentiment:
        qs = qs.filter(ok, analysis__label=f.sentiment)
    if f.sentiment_min is not None:
        qs = qs.filter(ok, analysis__sentiment__gte=f.sentiment_min)
    if f.sentiment_max is not None:
        qs = qs.filter(ok, analysis__sentiment__lte=f.sentiment_max)
    if f.impact:
        qs = qs.filter(ok, analysis__impact__gte=f.impact)
    if f.source:
        qs = qs.filter(source=f.source)
    tz = timezone.get_current_timezone()
    if f.since:
        qs = qs.filter(published_at__gte=datetime.combine(f.since, time.min, tzinfo=tz))
    if f.until:
        qs = qs.filter(
            published_at__lt=datetime.combine(f.until + timedelta(days=1), time.min, tzinfo=tz)
        )
    if f.ticker or f.watchlist or f.holdings:
        qs = qs.distinct()
    return qs


@dataclass
class StoryRow:
    """One story on the News page: its newest matching article and the other publishers."""

    article: Article
    others: list[Article]

    @property
    def also_reported_by(self) -> list[str]:
        names: list[str] = []
        lead = self.article.publisher or self.article.source
        for member in self.others:
            name = member.publisher or member.source
            if name != lead and name not in names:
                names.append(name)
        return names


def story_page(f: NewsFilters, *, user=None, page: str | int = 1, per_page: int = 25):
    """A page of stories (newest first) matching `f`: 1 count, 1 story-id page, 1 article
    query and 4 prefetches, whatever the page size."""
    matching = filter_articles(Article.objects.all(), f, user=user)
    stories = (
        matching.order_by()
        .values("story_id")
        .annotate(latest=Max("published_at"))
        .order_by("-latest", "-story_id")
    )
    paginator = Paginator(stories, per_page)
    page_obj: Page = paginator.get_page(page)
    rows_meta = list(page_obj.object_list)
    story_ids = [r["story_id"] for r in rows_meta if r["story_id"] is not None]
    articles = list(
        articles_queryset().filter(
            Q(story_id__in=story_ids) & Q(pk__in=matching.order_by().values("pk"))
        )
    )
    lead: dict[int, Article] = {}
    for article in articles:  # newest first: the first seen is the story's lead
        lead.setdefault(article.story_id, article)
    rows = []
    for meta in rows_meta:
        article = lead.get(meta["story_id"])
        if article is None:
            continue
        members = getattr(article.story, "members", []) if article.story_id else []
        rows.append(StoryRow(article, [m for m in members if m.pk != article.pk]))
    return page_obj, rows


def article_detail(pk: int) -> Article | None:
    return articles_queryset().filter(pk=pk).first()


def ticker_news(ticker: Ticker, *, limit: int = 8) -> list[tuple[Article, TickerSentiment | None]]:
    """Latest articles on `ticker` with that ticker's own sentiment (if analysed)."""
    rows = []
    for article in published(articles_queryset()).filter(ticker_links__ticker=ticker)[:limit]:
        own = None
        analysis = getattr(article, "analysis", None) if _has_analysis(article) else None
        if analysis is not None:
            own = next(
                (s for s in analysis.ticker_sentiments.all() if s.ticker_id == ticker.pk), None
            )
        rows.append((article, own))
    return rows


def latest_stories(*, limit: int = 6) -> list[StoryRow]:
    return story_page(NewsFilters(), page=1, per_page=limit)[1]


def sources_in_use() -> list[str]:
    return list(Article.objects.order_by("source").values_list("source", flat=True).distinct())


def _has_analysis(article: Article) -> bool:
    try:
        article.analysis  # noqa: B018
    except ArticleAnalysis.DoesNotExist:
        return False
    return True
