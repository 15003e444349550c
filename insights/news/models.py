"""News articles, their story groups and their analyses.

An `Article` is one published item from one source, stored as plain text. Near-duplicate
coverage of one event shares a `StoryGroup`. Each article has at most one current
`ArticleAnalysis`: an AI (Claude) analysis, an offline word-list analysis (replaced when an
AI analysis arrives), or a failed attempt with its reason. Never a default-filled one.
"""

from __future__ import annotations

from django.db import models

from markets.models import Ticker

__all__ = ["Article", "ArticleAnalysis", "ArticleTicker", "StoryGroup", "TickerSentiment"]


class StoryGroup(models.Model):
    """Coverage of one event: articles with similar titles within 48 hours."""

    key = models.CharField(max_length=64, db_index=True, help_text="Normalised title signature.")
    first_published_at = models.DateTimeField(db_index=True)
    last_published_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_published_at"]

    def __str__(self) -> str:
        return f"story {self.pk} ({self.key[:24]})"


class Article(models.Model):
    source = models.CharField(
        max_length=40, db_index=True, help_text="Adapter that fetched it, e.g. polygon, rss:fed."
    )
    publisher = models.CharField(max_length=120, blank=True, help_text="Who published it.")
    url = models.URLField(max_length=1000, unique=True, help_text="Canonical URL, no tracking.")
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    content = models.TextField(blank=True, help_text="Body text as the source gave it, plain.")
    author = models.CharField(max_length=200, blank=True)
    image_url = models.URLField(max_length=1000, blank=True)
    published_at = models.DateTimeField(db_index=True)
    fetched_at = models.DateTimeField(auto_now_add=True)
    story = models.ForeignKey(
        StoryGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    tickers = models.ManyToManyField(Ticker, through="ArticleTicker", related_name="articles")

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["source", "-published_at"])]

    def __str__(self) -> str:
        return self.title[:80]


class ArticleTicker(models.Model):
    class Origin(models.TextChoices):
        VENDOR = "vendor", "Tagged by the source"
        MATCHED = "matched", "Matched in the text"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticker_links")
    ticker = models.ForeignKey(Ticker, on_delete=models.CASCADE, related_name="article_links")
    origin = models.CharField(max_length=8, choices=Origin.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "ticker"], name="articleticker_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ticker_id} in article {self.article_id} ({self.origin})"


class ArticleAnalysis(models.Model):
    """The current analysis of one article."""

    class Kind(models.TextChoices):
        AI = "ai", "AI analysis"
        OFFLINE = "offline", "Offline analysis"

    class Status(models.TextChoices):
        ANALYSED = "analysed", "Analysed"
        FAILED = "failed", "Analysis failed"

    class Label(models.TextChoices):
        VERY_NEGATIVE = "very_negative", "Very negative"
        NEGATIVE = "negative", "Negative"
        NEUTRAL = "neutral", "Neutral"
        POSITIVE = "positive", "Positive"
        VERY_POSITIVE = "very_positive", "Very positive"

    article = models.OneToOneField(Article, on_delete=models.CASCADE, related_name="analysis")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices)
    failure_reason = models.TextField(blank=True)
    failure_retryable = models.BooleanField(
        default=False,
        help_text="Failed only on transient API errors (429, 5xx, timeout): retried next run.",
    )
    sentiment = models.FloatField(null=True, blank=True, help_text="-1 (bearish) … 1 (bullish).")
    label = models.CharField(max_length=14, choices=Label.choices, blank=True)
    impact = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1 … 5.")
    summary = models.TextField(blank=True)
    key_points = models.JSONField(default=list, blank=True)
    sectors = models.JSONField(default=list, blank=True)
    dropped_tickers = models.JSONField(
        default=list, blank=True, help_text="Symbols the model named that Qunex does not know."
    )
    evidence = models.JSONField(
        default=list, blank=True, help_text="Sentences quoted from the article text sent."
    )
    model = models.CharField(max_length=80, blank=True)
    prompt_version = models.CharField(max_length=20, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    analysed_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "article analysis"
        verbose_name_plural = "article analyses"
        indexes = [models.Index(fields=["kind", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of article {self.article_id}: {self.status}"

    @property
    def claude_failed_offline_kept(self) -> bool:
        """An offline analysis that Claude tried and failed to replace (the reason says why)."""
        return (
            self.kind == self.Kind.OFFLINE
            and self.status == self.Status.ANALYSED
            and bool(self.failure_reason)
        )

    def evidence_sentences(self) -> list[str]:
        """The evidence as the article's own sentences: each stored quote found in the article
        text (analyses stored before issue 20 hold the model's copy, re-cased or trimmed), and
        only quotes of at least `MIN_QUOTE_WORDS` words."""
        from insights.news.analysis.claude import (
            MIN_QUOTE_WORDS,
            article_text,
            find_in_article,
            normalise_for_quote,
        )

        article = self.article
        text = article_text(
            title=article.title, description=article.description, content=article.content
        )
        out: list[str] = []
        for quote in self.evidence:
            if not isinstance(quote, str):
                continue
            if len(normalise_for_quote(quote).split()) < MIN_QUOTE_WORDS:
                continue
            own = find_in_article(quote, text)
            if own and own not in out:
                out.append(own)
        return out


class TickerSentiment(models.Model):
    """One affected ticker's sentiment in one analysis (AI: its own; offline: the article's)."""

    analysis = models.ForeignKey(
        ArticleAnalysis, on_delete=models.CASCADE, related_name="ticker_sentiments"
    )
    ticker = models.ForeignKey(Ticker, on_delete=models.CASCADE, related_name="news_sentiments")
    sentiment = models.FloatField()
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["analysis", "ticker"], name="tickersentiment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ticker_id}: {self.sentiment:+.2f}"
