from __future__ import annotations

from datetime import UTC, datetime

import factory

from insights.news.models import Article, ArticleAnalysis, StoryGroup
from insights.news.providers.base import NewsItem


def item(title: str, url: str, *, at: datetime | None = None, **kw) -> NewsItem:
    return NewsItem(
        source=kw.pop("source", "polygon"),
        url=url,
        title=title,
        published_at=at or datetime(2026, 11, 27, 12, tzinfo=UTC),
        **kw,
    )


class StoryGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoryGroup

    key = factory.Sequence(lambda n: f"k{n}")
    first_published_at = datetime(2026, 11, 27, 12, tzinfo=UTC)
    last_published_at = datetime(2026, 11, 27, 12, tzinfo=UTC)


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    source = "polygon"
    publisher = "Reuters"
    url = factory.Sequence(lambda n: f"https://news.example.com/{n}")
    title = factory.Sequence(lambda n: f"Headline number {n}")
    description = "A description."
    published_at = datetime(2026, 11, 27, 12, tzinfo=UTC)
    story = factory.SubFactory(StoryGroupFactory)


class AnalysisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ArticleAnalysis

    article = factory.SubFactory(ArticleFactory)
    kind = ArticleAnalysis.Kind.AI
    status = ArticleAnalysis.Status.ANALYSED
    sentiment = 0.5
    label = ArticleAnalysis.Label.POSITIVE
    impact = 3
    summary = "Summary."
    key_points = ["One."]
    evidence = ["Quoted."]
    model = "claude-test"
    prompt_version = "v1"
    analysed_at = datetime(2026, 11, 27, 13, tzinfo=UTC)
