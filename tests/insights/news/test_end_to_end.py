"""The two halves of news together: refresh_news stores articles, analyze_news (no key: the
offline word list) analyses them, and every page and the API say "offline analysis"."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from insights.news.models import Article, ArticleAnalysis
from tests.factories import TickerFactory
from tests.insights.news.conftest import FED, POLY
from tests.markets import fixture


@pytest.mark.django_db
def test_refresh_then_offline_analysis_is_labelled_everywhere(
    vendor, settings, client, api_client, user
):
    settings.ANTHROPIC_API_KEY = ""
    TickerFactory(symbol="AAPL", name="Apple Inc.")
    vendor.add(FED, fixture("rss", "fed_press.xml"))
    vendor.add(f"{POLY}/v2/reference/news", fixture("polygon", "news_AAPL.json"))
    settings.NEWS_RSS_FEEDS = [f"fed|{FED}|Federal Reserve"]
    call_command("refresh_news", "--since", "2026-11-01", "--tickers", "AAPL", stdout=StringIO())
    stored = Article.objects.count()
    assert stored >= 2

    out = StringIO()
    call_command("analyze_news", stdout=out)
    assert "offline" in out.getvalue().lower()
    analyses = ArticleAnalysis.objects.all()
    assert analyses.count() == stored
    assert {a.kind for a in analyses} == {ArticleAnalysis.Kind.OFFLINE}
    assert all(a.status == ArticleAnalysis.Status.ANALYSED and a.impact is None for a in analyses)

    listing = client.get("/news/").content.decode()
    assert "Offline analysis" in listing or "offline analysis" in listing
    article = Article.objects.filter(tickers__symbol="AAPL").first() or Article.objects.first()
    page = client.get(f"/news/{article.pk}/").content.decode()
    assert "ffline analysis" in page
    api_client.force_authenticate(user)
    body = api_client.get(f"/api/news/{article.pk}/").json()
    assert body["offline"] is True and body["analysis"]["kind"] == "offline"
    # A second analysis run has nothing left to do.
    again = StringIO()
    call_command("analyze_news", stdout=again)
    assert ArticleAnalysis.objects.count() == stored
