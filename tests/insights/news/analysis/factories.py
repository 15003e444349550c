"""Articles for the analysis tests, created directly (the ingest is another area's)."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from insights.news.models import Article, ArticleTicker


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    source = "test"
    url = factory.Sequence(lambda n: f"https://news.example.com/a/{n}")
    title = factory.Sequence(lambda n: f"Acme Corp reports quarter {n}")
    description = "Acme Corp said revenue rose 12% on strong demand for its widgets."
    content = (
        "Acme Corp reported quarterly revenue of $1.2 billion, up 12% from a year earlier. "
        "Chief executive Jane Roe said demand for \u201cconnected widgets\u201d exceeded "
        "expectations. The company raised its full-year outlook."
    )
    published_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=2))

    @factory.post_generation
    def tickers(self, create, extracted, **kwargs):
        for ticker in extracted or []:
            ArticleTicker.objects.create(article=self, ticker=ticker, origin="vendor")
