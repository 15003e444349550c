"""The demo insights, part by part: what each stores, that it goes through the real services
(story groups, validated analyses, the amendment rule, cluster detection), that seeding again
changes nothing, that it steps aside for real data, and that real data replaces it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from insights.calendar import demo as calendar_demo
from insights.calendar.models import EconomicEvent
from insights.calendar.providers import CalendarSource, EventRecord
from insights.calendar.providers.base import FetchResult
from insights.calendar.services import calendar_refresh
from insights.insiders import demo as insiders_demo
from insights.insiders.models import InsiderFiling, InsiderTransaction
from insights.insiders.selectors import cluster_buys, trades_list
from insights.news import demo as news_demo
from insights.news.analysis.claude import normalise_for_quote
from insights.news.models import Article, ArticleAnalysis, StoryGroup
from tests.factories import TickerFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # a Thursday
NAMES = {
    "AAPL": "Apple Inc.",
    "NVDA": "NVIDIA Corporation",
    "AMD": "Advanced Micro Devices, Inc.",
    "BA": "The Boeing Company",
    "XOM": "Exxon Mobil Corporation",
    "CVX": "Chevron Corporation",
    "JPM": "JPMorgan Chase & Co.",
    "TSLA": "Tesla, Inc.",
    "WMT": "Walmart Inc.",
    "LLY": "Eli Lilly and Company",
    "DIS": "The Walt Disney Company",
    "PEP": "PepsiCo, Inc.",
    "CAT": "Caterpillar Inc.",
    "MSFT": "Microsoft Corporation",
}


@pytest.fixture
def tickers(db):
    return {s: TickerFactory(symbol=s, name=n, is_demo=True) for s, n in NAMES.items()}


@pytest.fixture
def no_vendor_keys(settings):
    settings.NEWSAPI_KEY = settings.POLYGON_API_KEY = settings.FINNHUB_API_KEY = ""
    settings.ANTHROPIC_API_KEY = ""


# --- news -----------------------------------------------------------------------------------


def test_demo_news_groups_stories_links_tickers_and_analyses_every_article(tickers, no_vendor_keys):
    line = news_demo.seed(now=NOW)
    assert line.startswith("News: 12 demo articles added")
    articles = Article.objects.filter(source="demo")
    assert articles.count() == len(news_demo.ARTICLES)
    apple = Article.objects.get(url__endswith="apple-services-beat")
    assert apple.story.articles.count() == 3  # "also reported by" two more publishers
    assert {t.symbol for t in apple.tickers.all()} == {"AAPL"}
    assert set(StoryGroup.objects.values_list("articles__publisher", flat=True)) >= {
        news_demo.WIRE,
        news_demo.DAILY,
        news_demo.JOURNAL,
    }
    # Three full demo analyses, labelled; the rest offline. Nothing left unanalysed.
    full = ArticleAnalysis.objects.filter(prompt_version=news_demo.DEMO_PROMPT)
    assert full.count() == 3
    assert set(full.values_list("model", flat=True)) == {"Demo analysis, not from Claude"}
    nvda = full.get(article__url__endswith="nvidia-outlook")
    assert nvda.impact == 4 and nvda.label == "very_positive"
    reasons = {ts.ticker.symbol: ts.reason for ts in nvda.ticker_sentiments.all()}
    assert set(reasons) == {"NVDA", "AMD"} and all(reasons.values())
    for analysis in full:
        text = normalise_for_quote(
            " ".join(
                [analysis.article.title, analysis.article.description, analysis.article.content]
            )
        )
        assert all(normalise_for_quote(q) in text for q in analysis.evidence)
    assert ArticleAnalysis.objects.filter(kind="offline").count() == 9
    assert not articles.filter(analysis__isnull=True).exists()

    # Idempotent: the same URLs are skipped and no analysis is rewritten.
    stamps = dict(ArticleAnalysis.objects.values_list("pk", "analysed_at"))
    assert news_demo.seed(now=NOW + timedelta(hours=1)).startswith("News: 0 demo articles")
    assert Article.objects.count() == 12
    assert dict(ArticleAnalysis.objects.values_list("pk", "analysed_at")) == stamps


def test_a_demo_analysis_that_fails_validation_is_reported_not_stored(
    tickers, no_vendor_keys, monkeypatch
):
    from dataclasses import replace

    first = news_demo.ARTICLES[0]
    bad = replace(first, analysis={**first.analysis, "evidence": ["Words the article never says."]})
    monkeypatch.setattr(news_demo, "ARTICLES", (bad, *news_demo.ARTICLES[1:]))
    line = news_demo.seed(now=NOW)
    assert "2 with a demo analysis" in line
    assert "demo analysis refused: apple-services-beat: evidence/0" in line
    assert Article.objects.get(url__endswith="apple-services-beat").analysis.kind == "offline"


def test_demo_news_steps_aside_for_a_news_key_or_real_news(tickers, no_vendor_keys, settings):
    settings.NEWSAPI_KEY = "key"
    assert "no demo news" in news_demo.seed(now=NOW)
    settings.NEWSAPI_KEY = ""
    Article.objects.create(
        source="rss:fed", url="https://www.federalreserve.gov/x", title="x", published_at=NOW
    )
    assert "no demo news" in news_demo.seed(now=NOW)
    assert not Article.objects.filter(source="demo").exists()


def test_real_company_news_replaces_the_demo_news(tickers, no_vendor_keys):
    news_demo.seed(now=NOW)
    Article.objects.create(
        source="rss:fed", url="https://www.federalreserve.gov/x", title="Fed", published_at=NOW
    )
    assert news_demo.news_demo_release() == 12
    assert list(Article.objects.values_list("source", flat=True)) == ["rss:fed"]
    assert not StoryGroup.objects.filter(articles=None).exists()
    assert not ArticleAnalysis.objects.exists()


# --- economic calendar ----------------------------------------------------------------------


def test_demo_calendar_has_surprises_behind_and_the_fomc_ahead(no_vendor_keys):
    assert calendar_demo.seed(now=NOW).startswith("Calendar: 15 demo events added")
    past = EconomicEvent.objects.past(NOW)
    assert past.exists() and all(e.actual is not None and e.surprise is not None for e in past)
    payrolls = past.get(source_key="payrolls-past")
    assert payrolls.surprise == Decimal("-32") and payrolls.importance == 3
    upcoming = list(EconomicEvent.objects.upcoming(NOW))
    assert all(e.actual is None and e.forecast is not None for e in upcoming)
    assert upcoming[0].scheduled_at < NOW + timedelta(days=7)  # this week
    fomc = next(e for e in upcoming if "FOMC" in e.name)
    assert NOW + timedelta(days=7) <= fomc.scheduled_at < NOW + timedelta(days=15)  # next week
    assert fomc.scheduled_at.hour == 19  # 14:00 in New York, in December

    # Seeding again a day later moves the same rows; nothing is added.
    assert calendar_demo.seed(now=NOW + timedelta(days=1)).startswith("Calendar: 0 demo")
    assert EconomicEvent.objects.count() == 15


class _Finnhub(CalendarSource):
    name = "finnhub"

    def __init__(self, records):
        self.records = records

    def fetch(self, start, end):
        return FetchResult(self.records)


def test_real_actual_figures_replace_the_demo_events_and_schedules_do_not(no_vendor_keys):
    calendar_demo.seed(now=NOW)
    schedule = EventRecord("bls", "uid-1", "Consumer Price Index", "US", NOW)
    report = calendar_refresh(start=NOW.date(), end=NOW.date(), sources=[_Finnhub([schedule])])
    assert EconomicEvent.objects.filter(source="demo").count() == 15  # no actuals: kept
    released = EventRecord("finnhub", "us-cpi", "CPI", "US", NOW, actual=Decimal("2.9"))
    report = calendar_refresh(start=NOW.date(), end=NOW.date(), sources=[_Finnhub([released])])
    assert report.sources[0].demo_released == 15
    assert not EconomicEvent.objects.filter(source="demo").exists()
    assert "no demo events" in calendar_demo.seed(now=NOW)


def test_demo_calendar_steps_aside_for_a_finnhub_key(no_vendor_keys, settings):
    settings.FINNHUB_API_KEY = "key"
    assert "no demo events" in calendar_demo.seed(now=NOW)
    assert not EconomicEvent.objects.exists()


# --- insider trades -------------------------------------------------------------------------


def test_demo_insiders_show_a_cluster_an_amendment_derivatives_buys_and_sells(tickers):
    today = date(2026, 12, 3)
    assert insiders_demo.seed(today=today) == "Insider trades: 10 demo filings added (13 rows)."
    clusters = cluster_buys(since=today - timedelta(days=90))
    assert [(c.symbol, len(c.insiders), c.demo) for c in clusters] == [("DIS", 3, True)]
    original = InsiderFiling.objects.get(accession="DEMO-MSFT-1")
    assert original.amended_by.accession == "DEMO-MSFT-1A"
    # Point in time: the original keeps its row (known until the 4/A was filed); the pages'
    # amended view shows only the amendment's.
    assert original.transactions.get().price == Decimal("4.880000")
    assert original.known_at < InsiderFiling.objects.get(accession="DEMO-MSFT-1A").known_at
    assert InsiderTransaction.objects.get(filing__accession="DEMO-MSFT-1A").price == Decimal(
        "488.000000"
    )
    shown = trades_list(symbols=["MSFT"])
    assert [t.price for t in shown] == [Decimal("488.000000")]
    codes = set(InsiderTransaction.objects.values_list("code", flat=True))
    assert {"P", "S", "M", "F"} <= codes
    derivative = InsiderTransaction.objects.get(table="d")
    assert derivative.exercise_price == Decimal("64.25") and derivative.underlying_shares
    assert not InsiderTransaction.objects.filter(table="nd", ticker__isnull=True).exists()

    assert insiders_demo.seed(today=today + timedelta(days=1)).startswith(
        "Insider trades: 0 demo filings added"
    )
    assert InsiderFiling.objects.count() == 10


def test_real_filings_replace_the_demo_filings(tickers):
    insiders_demo.seed(today=date(2026, 12, 3))
    assert insiders_demo.insiders_demo_release() == 10
    assert not InsiderTransaction.objects.exists()


# --- the whole seed -------------------------------------------------------------------------


def test_seed_demo_fills_every_page_with_labelled_demo_data_and_ends_with_the_login(
    no_vendor_keys, settings
):
    from insights.scores.models import AIScore, ModelVersion
    from insights.scores.selectors import published_scores, track_record

    settings.SITE_URL = "http://127.0.0.1:8000"
    with time_machine.travel(NOW, tick=False):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        lines = out.getvalue().strip().splitlines()
        assert lines[-1] == (
            "Demo login: demo@qunex.local / qunex-demo-2026 at http://127.0.0.1:8000/accounts/login/"
        )
        assert lines[-2].startswith("Staff panel: http://127.0.0.1:8000/admin/")
        model = ModelVersion.objects.get()
        assert model.is_demo and model.promoted
        days = sorted(set(AIScore.objects.values_list("date", flat=True)))
        assert len(days) == 60 and days[0] > model.last_bar  # every score out of sample
        assert AIScore.objects.filter(is_demo=False).count() == 0
        record = track_record()
        assert not record["pending"] and record["in_sample"] == 0 and record["demo"]
        # Each day's scores were stored by that evening's run: all published, none left out,
        # and the 40 sessions whose 20 sessions have passed carry realised returns.
        assert record["late"] == 0
        assert len({r[0] for r in published_scores(start=days[0])[0]}) == 60
        assert record["count"] == AIScore.objects.filter(date__lte=days[39]).count()
        assert any(row["count"] for row in record["by_score"])
        counts = (
            Article.objects.count(),
            EconomicEvent.objects.count(),
            InsiderFiling.objects.count(),
            AIScore.objects.count(),
        )
        assert all(counts)

        call_command("seed_demo", "--force", stdout=StringIO())  # idempotent
        assert counts == (
            Article.objects.count(),
            EconomicEvent.objects.count(),
            InsiderFiling.objects.count(),
            AIScore.objects.count(),
        )
        assert ModelVersion.objects.count() == 1
