"""Demo news for a laptop with no news-vendor key: a few made-up company stories, some covered
by more than one (made-up) publisher, stored through the same ingest as real news (canonical
URLs, ticker links, story groups), then analysed: three carry a full analysis labelled "Demo
analysis, not from Claude" (validated like Claude's output: every evidence quote is in the
text), the rest the offline word-list analysis.

Every demo article has `source="demo"` and its page says "Demo data". They are left out when
a news-vendor key is set or real news is stored, and `news_demo_release` deletes them once a
company-news vendor stores articles (refresh_news), as real prices replace demo prices.
Official feeds (Fed, SEC, BLS) do not replace them: they are not company news.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from insights.news.analysis.claude import analysis_from_tool_input, article_text
from insights.news.analysis.services import analysis_store_ai, news_analyse
from insights.news.models import Article, StoryGroup
from insights.news.providers.base import NewsItem
from insights.news.services import Ingestor, canonical_url
from markets.models import Ticker

DEMO_SOURCE = "demo"
DEMO_MODEL = "Demo analysis, not from Claude"
DEMO_PROMPT = "demo"
URL_ROOT = "https://example.com/qunex-demo/news/"


@dataclass(frozen=True)
class DemoArticle:
    slug: str
    hours_ago: float
    publisher: str
    title: str
    description: str
    content: str
    symbols: tuple[str, ...]
    analysis: dict[str, Any] | None = None  # record_analysis tool input, validated on seed


WIRE, DAILY, JOURNAL = "Demo Wire", "Demo Markets Daily", "Demo Business Journal"

# fmt: off
ARTICLES: tuple[DemoArticle, ...] = (
    DemoArticle(
        "apple-services-beat", 2, WIRE,
        "Apple beats quarterly revenue estimates as services sales climb",
        "Apple reported quarterly revenue above analysts' estimates, helped by record services sales.",
        "Apple said services revenue rose 14% from a year earlier to a record. iPhone sales were "
        "flat, and the company guided to revenue growth in the low single digits next quarter. "
        "Gross margin widened to 46.5% as the services mix grew.",
        ("AAPL",),
        {
            "sentiment": 0.55, "label": "positive", "impact": 3,
            "tickers": [{"symbol": "AAPL", "sentiment": 0.55, "reason": "Services revenue rose 14% to a record and gross margin widened to 46.5%."}],
            "sectors": ["Technology Hardware", "Software & Services"],
            "summary": "Apple beat revenue estimates on record services sales while iPhone sales were flat. The margin gain from services matters more for earnings than the flat hardware line.",
            "key_points": ["Services revenue up 14% to a record", "iPhone sales flat", "Gross margin 46.5%", "Guidance: low single-digit growth"],
            "evidence": ["Apple said services revenue rose 14% from a year earlier to a record.", "Gross margin widened to 46.5% as the services mix grew."],
        },
    ),
    DemoArticle(
        "apple-services-beat-daily", 4.5, DAILY,
        "Apple quarterly revenue beats estimates, services sales climb",
        "Services growth carried Apple's quarter past expectations.",
        "Apple's services business grew 14%, offsetting flat iPhone sales.",
        ("AAPL",),
    ),
    DemoArticle(
        "apple-services-record-journal", 5, JOURNAL,
        "Apple beats revenue estimates as services sales climb to a record",
        "A record services quarter lifted Apple above estimates.",
        "Analysts said the services mix supports Apple's margins.",
        ("AAPL",),
    ),
    DemoArticle(
        "nvidia-outlook", 19, WIRE,
        "Nvidia shares rise after data-center chip demand lifts outlook",
        "NVIDIA Corporation (NVDA) raised its revenue outlook on data-center demand.",
        "Nvidia raised its revenue forecast for the current quarter by 8%, citing orders for "
        "data-center accelerators. Advanced Micro Devices (AMD) shares also gained in sympathy. "
        "The company said supply of its newest chips remains tight into next year.",
        ("NVDA", "AMD"),
        {
            "sentiment": 0.7, "label": "very_positive", "impact": 4,
            "tickers": [
                {"symbol": "NVDA", "sentiment": 0.75, "reason": "Raised its quarterly revenue forecast by 8% on data-center accelerator orders."},
                {"symbol": "AMD", "sentiment": 0.2, "reason": "Shares rose in sympathy; the article gives no news of its own."},
            ],
            "sectors": ["Semiconductors"],
            "summary": "Nvidia raised its revenue forecast on strong data-center orders. Tight supply into next year suggests demand still exceeds what it can ship.",
            "key_points": ["Revenue forecast raised 8%", "Demand driven by data-center accelerators", "Supply tight into next year"],
            "evidence": ["Nvidia raised its revenue forecast for the current quarter by 8%, citing orders for data-center accelerators."],
        },
    ),
    DemoArticle(
        "nvidia-outlook-daily", 20, DAILY,
        "Nvidia raises outlook on data-center chip demand, shares rise",
        "NVIDIA Corporation lifted guidance as data-center orders grew.",
        "The chipmaker said orders from cloud providers drove the higher forecast.",
        ("NVDA",),
    ),
    DemoArticle(
        "boeing-delivery-delay", 28, JOURNAL,
        "Boeing delays jet deliveries after new inspection findings",
        "The Boeing Company (BA) said deliveries will slip while it reworks fuselage parts.",
        "Boeing said it found improperly drilled holes on some fuselage sections during "
        "inspections. Deliveries of the affected jets will be delayed by several weeks while the "
        "parts are reworked. The company kept its annual delivery target unchanged.",
        ("BA",),
        {
            "sentiment": -0.45, "label": "negative", "impact": 3,
            "tickers": [{"symbol": "BA", "sentiment": -0.45, "reason": "Deliveries delayed by weeks for fuselage rework, though the annual target stands."}],
            "sectors": ["Aerospace & Defense"],
            "summary": "Boeing is delaying some jet deliveries to rework fuselage sections found faulty in inspections. The unchanged annual target limits the damage, but delays defer cash.",
            "key_points": ["Improperly drilled holes found on fuselage sections", "Deliveries delayed several weeks", "Annual delivery target unchanged"],
            "evidence": ["Deliveries of the affected jets will be delayed by several weeks while the parts are reworked.", "The company kept its annual delivery target unchanged."],
        },
    ),
    DemoArticle(
        "oil-majors-slip", 30, WIRE,
        "Exxon Mobil and Chevron slip as oil prices fall on supply worries",
        "Energy shares declined as crude fell on signs of rising supply.",
        "Exxon Mobil (XOM) and Chevron (CVX) fell as crude prices dropped for a third day. "
        "Traders cited weak demand and higher inventories.",
        ("XOM", "CVX"),
    ),
    DemoArticle(
        "oil-majors-slip-daily", 29, DAILY,
        "Chevron and Exxon Mobil slip as oil prices fall on supply worries",
        "Oil producers lost ground with crude.",
        "Crude inventories rose more than expected, analysts said.",
        ("XOM", "CVX"),
    ),
    DemoArticle(
        "jpmorgan-trading", 40, JOURNAL,
        "JPMorgan Chase profit rises on stronger trading revenue",
        "JPMorgan Chase & Co. (JPM) reported higher profit as markets revenue grew.",
        "Trading revenue grew 12% and credit quality remained solid, the bank said.",
        ("JPM",),
    ),
    DemoArticle(
        "tesla-recall", 44, WIRE,
        "Tesla recalls vehicles over a software issue with rear cameras",
        "Tesla, Inc. (TSLA) will fix the problem with an over-the-air update.",
        "The recall covers about 200,000 vehicles; the company said it is not aware of any crashes.",
        ("TSLA",),
    ),
    DemoArticle(
        "walmart-forecast", 50, DAILY,
        "Walmart raises full-year sales forecast on strong grocery demand",
        "Walmart Inc. (WMT) lifted its outlook after a strong quarter.",
        "Comparable sales grew 4.5% and e-commerce sales rose 20%, beating expectations.",
        ("WMT",),
    ),
    DemoArticle(
        "lilly-demand", 60, JOURNAL,
        "Eli Lilly weight-loss drug sales surge past expectations",
        "Eli Lilly and Company (LLY) reported sales growth well above forecasts.",
        "Demand for its weight-loss treatment continued to exceed supply, the company said.",
        ("LLY",),
    ),
)
# fmt: on


def _items(now: datetime) -> list[NewsItem]:
    return [
        NewsItem(
            source=DEMO_SOURCE,
            url=URL_ROOT + a.slug,
            title=a.title,
            published_at=now - timedelta(hours=a.hours_ago),
            publisher=a.publisher,
            description=a.description,
            content=a.content,
            symbols=a.symbols,
        )
        for a in ARTICLES
    ]


def news_vendor_configured() -> bool:
    return any((settings.NEWSAPI_KEY, settings.POLYGON_API_KEY, settings.FINNHUB_API_KEY))


def seed(*, now: datetime) -> str:
    """Store the demo articles and their analyses (idempotent: stored URLs are skipped and an
    article's analysis is only written when it has none). Returns one line for seed_demo."""
    if news_vendor_configured():
        return "News: a news-vendor key is set, so no demo news (refresh_news loads real news)."
    if Article.objects.exclude(source=DEMO_SOURCE).exists():
        return "News: real news is stored, so no demo news."
    stats = Ingestor().ingest(_items(now))
    known = dict(Ticker.objects.values_list("symbol", "pk"))
    by_url = dict(
        Article.objects.filter(source=DEMO_SOURCE, analysis__isnull=True).values_list("url", "pk")
    )
    analysed = 0
    for spec in ARTICLES:
        pk = by_url.get(canonical_url(URL_ROOT + spec.slug))
        if spec.analysis is None or pk is None:
            continue
        article = Article.objects.get(pk=pk)
        text = article_text(
            title=article.title, description=article.description, content=article.content
        )
        analysis = analysis_from_tool_input(
            spec.analysis, text=text, known_symbols=set(known), model=DEMO_MODEL
        )
        analysis_store_ai(
            article=article, analysis=analysis, known=known, prompt_version=DEMO_PROMPT
        )
        analysed += 1
    demo_ids = Article.objects.filter(source=DEMO_SOURCE).values_list("pk", flat=True)
    offline = news_analyse(offline=True, article_ids=list(demo_ids))
    return (
        f"News: {stats.created} demo articles added ({stats.grouped} grouped into stories), "
        f"{analysed} with a demo analysis, {offline.analysed} analysed offline."
    )


@transaction.atomic
def news_demo_release() -> int:
    """Delete the demo articles (and the stories left empty): real company news has arrived.
    Returns how many articles were deleted."""
    demo = Article.objects.filter(source=DEMO_SOURCE)
    stories = set(demo.exclude(story=None).values_list("story_id", flat=True))
    deleted = demo.count()
    if deleted:
        demo.delete()
        StoryGroup.objects.filter(pk__in=stories).annotate(n=Count("articles")).filter(n=0).delete()
    return deleted
