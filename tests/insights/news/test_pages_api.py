"""News pages, panels and API: filters, analysis states, inert markup, query budgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights.news.models import Article, ArticleTicker, TickerSentiment
from insights.news.providers.base import make_item
from insights.news.services import ingest
from portfolios.models import Portfolio, Transaction, Watchlist, WatchlistItem
from tests.factories import TickerFactory
from tests.insights.news.factories import AnalysisFactory, ArticleFactory, StoryGroupFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 27, 12, tzinfo=UTC)
NEWS = "/news/"
API = "/api/news/"


def _articles(n: int) -> None:
    """n analysed articles, each with two tickers and per-ticker sentiments, in stories of 2."""
    a, b = TickerFactory(symbol="AAPL"), TickerFactory(symbol="MSFT")
    for i in range(n):
        story = StoryGroupFactory() if i % 2 == 0 else Article.objects.latest("id").story
        art = ArticleFactory(
            story=story, publisher=f"Pub {i}", published_at=T0 - timedelta(minutes=i)
        )
        ArticleTicker.objects.create(article=art, ticker=a, origin="vendor")
        ArticleTicker.objects.create(article=art, ticker=b, origin="matched")
        analysis = AnalysisFactory(article=art, kind="offline" if i % 3 else "ai")
        TickerSentiment.objects.create(analysis=analysis, ticker=a, sentiment=0.4, reason="r")
        TickerSentiment.objects.create(analysis=analysis, ticker=b, sentiment=-0.2, reason="s")


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "path", [NEWS, NEWS + "?ticker=AAPL&sentiment=bullish", API, API + "?ticker=AAPL"]
)
def test_same_query_count_for_1_and_50_articles(auth_client, path: str) -> None:
    auth_client.get("/health")
    counts = []
    for n in (1, 50):
        Article.objects.all().delete()
        _articles(n)
        counts.append(_count(auth_client, path))
    assert counts[0] == counts[1], counts


def test_dashboard_and_stock_page_panel_budgets(auth_client) -> None:
    auth_client.get("/health")
    counts = []
    for n in (1, 50):
        Article.objects.all().delete()
        _articles(n)
        counts.append((_count(auth_client, "/"), _count(auth_client, "/stocks/AAPL/")))
    assert counts[0] == counts[1], counts


def test_news_page_collapses_stories_and_names_other_publishers(client) -> None:
    _articles(4)
    response = client.get(NEWS)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="news-row"') == 2
    assert "Also reported by Pub 1" in body and "Also reported by Pub 3" in body
    assert "2 stories" in body
    assert "Offline analysis" in body  # i % 3 != 0 are offline
    assert 'name="watchlist"' not in body and 'name="holdings"' not in body  # anonymous


def test_empty_state_says_when_news_comes_and_only_staff_how(client, staff_user) -> None:
    body = client.get(NEWS).content.decode()
    assert "No news yet" in body and "hourly" in body
    assert "manage.py" not in body and "_API_KEY" not in body
    client.force_login(staff_user)
    body = client.get(NEWS).content.decode()
    assert "python manage.py refresh_news" in body and "NEWSAPI_KEY" in body


def test_filters_by_watchlist_and_holdings_of_the_user_only(auth_client, user, other_user) -> None:
    aapl, msft, nvda = (TickerFactory(symbol=s) for s in ("AAPL", "MSFT", "NVDA"))
    for ticker in (aapl, msft, nvda):
        art = ArticleFactory(title=f"{ticker.symbol} news item here")
        ArticleTicker.objects.create(article=art, ticker=ticker, origin="vendor")
    mine = Watchlist.objects.create(owner=user, name="Mine")
    WatchlistItem.objects.create(watchlist=mine, ticker=aapl)
    theirs = Watchlist.objects.create(owner=other_user, name="Theirs")
    WatchlistItem.objects.create(watchlist=theirs, ticker=msft)
    pf = Portfolio.objects.create(owner=user, name="P")
    Transaction.objects.create(
        portfolio=pf,
        type="buy",
        ticker=nvda,
        trade_date="2026-01-02",
        quantity=Decimal(2),
        price=Decimal(1),
    )
    Transaction.objects.create(
        portfolio=pf,
        type="buy",
        ticker=msft,
        trade_date="2026-01-02",
        quantity=Decimal(2),
        price=Decimal(1),
    )
    Transaction.objects.create(
        portfolio=pf,
        type="sell",
        ticker=msft,
        trade_date="2026-01-03",
        quantity=Decimal(2),
        price=Decimal(1),
    )

    body = auth_client.get(NEWS + "?watchlist=all").content.decode()
    assert (
        "AAPL news item" in body and "MSFT news item" not in body and "NVDA news item" not in body
    )
    body = auth_client.get(NEWS + f"?watchlist={theirs.pk}").content.decode()
    assert "news item" not in body  # someone else's watchlist matches nothing
    body = auth_client.get(NEWS + "?holdings=1").content.decode()
    assert (
        "NVDA news item" in body and "MSFT news item" not in body and "AAPL news item" not in body
    )


def test_sentiment_impact_source_and_date_filters(client) -> None:
    good = AnalysisFactory(
        article__title="Good news today for everyone",
        sentiment=0.6,
        impact=4,
        article__source="polygon",
    ).article
    bad = AnalysisFactory(
        article__title="Bad news today for someone",
        sentiment=-0.7,
        label="negative",
        impact=2,
        article__source="rss:fed",
        article__published_at=T0 - timedelta(days=3),
    ).article

    def titles(query: str) -> set[str]:
        body = client.get(NEWS + query).content.decode()
        return {a.title for a in (good, bad) if a.title in body}

    assert titles("?sentiment=bullish") == {good.title}
    assert titles("?sentiment=negative") == {bad.title}
    assert titles("?impact=3") == {good.title}
    assert titles("?source=rss:fed") == {bad.title}
    assert titles("?since=2026-11-26") == {good.title}
    assert titles("?until=2026-11-25") == {bad.title}


@pytest.mark.parametrize(
    "query",
    [
        "?sentiment=junk",
        "?impact=9",
        "?since=yesterday",
        "?page=",
        "?page=x",
        "?sentiment_min=5",
    ],
)
def test_bad_filters_never_500_on_the_page(client, query: str) -> None:
    response = client.get(NEWS + query)
    assert response.status_code == 200


def test_control_characters_are_a_400_before_any_query(client) -> None:
    assert client.get(NEWS + "?ticker=%00AAPL").status_code == 400


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("sentiment=junk", "sentiment"),
        ("impact=9", "impact"),
        ("since=2026-13-01", "since"),
        ("until=x", "until"),
        ("ticker=%00AAPL", "ticker"),
        ("page=", "page"),
        ("page_size=201", "page_size"),
        ("until=", "until"),
        ("ticker=", "ticker"),
        ("page=0", "page"),
        ("sentiment_min=abc", "sentiment_min"),
        ("source=a%01b", "source"),
    ],
)
def test_api_rejects_bad_values_naming_the_parameter(auth_client, query: str, param: str) -> None:
    response = auth_client.get(f"{API}?{query}")
    assert response.status_code == 400
    assert param in response.json()


def test_api_requires_authentication(client) -> None:
    assert client.get(API).status_code in (401, 403)


def test_api_list_and_detail_with_nested_analysis(auth_client) -> None:
    aapl = TickerFactory(symbol="AAPL")
    analysis = AnalysisFactory(
        kind="offline", sentiment=-0.25, label="negative", article__published_at=T0
    )
    ArticleTicker.objects.create(article=analysis.article, ticker=aapl, origin="vendor")
    TickerSentiment.objects.create(
        analysis=analysis, ticker=aapl, sentiment=-0.25, reason="word list"
    )
    ArticleFactory(title="Unanalysed one", published_at=T0 - timedelta(days=5))

    rows = auth_client.get(API).json()["results"]
    assert [r["title"] for r in rows] == [analysis.article.title, "Unanalysed one"]
    assert rows[0]["offline"] is True and rows[0]["analysis"]["offline"] is True
    assert rows[0]["analysis"]["ticker_sentiments"] == [
        {"symbol": "AAPL", "sentiment": -0.25, "reason": "word list"}
    ]
    assert rows[0]["tickers"] == ["AAPL"]
    assert rows[1]["analysis"] is None and rows[1]["offline"] is False
    assert [r["title"] for r in auth_client.get(API + "?ticker=aapl").json()["results"]] == [
        analysis.article.title
    ]
    assert auth_client.get(API + "?sentiment_max=-0.2").json()["count"] == 1
    assert auth_client.get(API + "?since=2026-11-25&until=2026-11-27").json()["count"] == 1

    detail = auth_client.get(f"{API}{analysis.article.pk}/").json()
    # "Quoted." is one word and not in the article: not evidence, on the API as on the page.
    assert detail["analysis"]["kind"] == "offline" and detail["analysis"]["evidence"] == []
    assert auth_client.get(f"{API}999999/").status_code == 404
    assert auth_client.get(API + "?page=99").status_code == 404


def test_article_page_states(client) -> None:
    analysed = AnalysisFactory(
        summary="Two sentences. Exactly.",
        evidence=["Revenue rose 9% on strong demand."],
        article__url="https://x.example.com/a",
        article__description="Revenue rose 9% on strong demand. Margins held.",
    )
    TickerSentiment.objects.create(
        analysis=analysed,
        ticker=TickerFactory(symbol="AAPL"),
        sentiment=0.5,
        reason="Strong iPhone demand",
    )
    failed = AnalysisFactory(
        status="failed", sentiment=None, label="", impact=None, failure_reason="model refused"
    )
    offline = AnalysisFactory(kind="offline", summary="")
    plain = ArticleFactory()

    body = client.get(reverse("insights:news_article", args=[analysed.article.pk])).content.decode()
    assert (
        "Two sentences. Exactly." in body
        and "<blockquote>Revenue rose 9% on strong demand.</blockquote>" in body
        and "Strong iPhone demand" in body
    )
    assert 'rel="noopener noreferrer nofollow"' in body and "Offline analysis" not in body
    assert (
        "Analysis failed: model refused"
        in client.get(reverse("insights:news_article", args=[failed.article.pk])).content.decode()
    )
    assert (
        "Offline analysis"
        in client.get(reverse("insights:news_article", args=[offline.article.pk])).content.decode()
    )
    assert (
        "Not analysed yet"
        in client.get(reverse("insights:news_article", args=[plain.pk])).content.decode()
    )
    assert client.get(reverse("insights:news_article", args=[987654])).status_code == 404


PAYLOADS = [
    "<script>alert(1)</script>",
    "&lt;script&gt;alert(2)&lt;/script&gt;",
    "&amp;lt;script&amp;gt;alert(3)&amp;lt;/script&amp;gt;",
    "<img src=x onerror=alert(4)>",
]


def test_markup_in_every_field_is_inert_everywhere(auth_client) -> None:
    ticker = TickerFactory(symbol="AAPL", name="Apple Inc.")
    items = [
        make_item(
            source="polygon",
            url=f"https://x.example.com/{n}",
            title=f"Apple {p} story number {n}",
            published_at="2026-11-27T12:00:00Z",
            publisher=f"Pub {p}",
            description=f"Desc {p} $AAPL",
            author=f"Author {p}",
            content=f"Body {p}",
            symbols=["AAPL"],
        )
        for n, p in enumerate(PAYLOADS)
    ]
    ingest(items)
    for article in Article.objects.all():
        for value in (
            article.title,
            article.publisher,
            article.description,
            article.author,
            article.content,
        ):
            assert "<" not in value and "&lt;" not in value and "script>" not in value
        analysis = AnalysisFactory(
            article=article, summary=PAYLOADS[0], key_points=[PAYLOADS[1]], evidence=[PAYLOADS[0]]
        )
        TickerSentiment.objects.create(
            analysis=analysis, ticker=ticker, sentiment=0.1, reason=PAYLOADS[0]
        )
    pages = [NEWS, "/", "/stocks/AAPL/", *(f"/news/{a.pk}/" for a in Article.objects.all())]
    for path in pages:
        body = auth_client.get(path).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body, path
    for path in [API, *(f"{API}{a.pk}/" for a in Article.objects.all())]:
        data = auth_client.get(path).json()
        rows = data.get("results", [data])
        for row in rows:
            for key in ("title", "description", "publisher", "author"):
                assert "<" not in row[key] and "&lt;" not in row[key], (path, key)


def test_article_page_says_when_claude_failed_and_the_offline_analysis_is_kept(client) -> None:
    kept = AnalysisFactory(
        kind="offline",
        summary="",
        failure_reason="Claude analysis failed, offline analysis kept: attempt 1: timeout",
    )
    plain_offline = AnalysisFactory(kind="offline", summary="")

    body = client.get(reverse("insights:news_article", args=[kept.article.pk])).content.decode()
    assert "The AI analysis failed; the offline word-list analysis is shown instead." in body
    assert "attempt 1: timeout" in body and "Offline analysis" in body
    other = client.get(reverse("insights:news_article", args=[plain_offline.article.pk]))
    assert "The AI analysis failed" not in other.content.decode()


def test_evidence_is_the_articles_own_sentence_and_short_quotes_are_not_shown(client) -> None:
    analysis = AnalysisFactory(
        article__description=(
            "Acme Corp. reported results. Chief executive Jane Roe said demand for "
            "\u201cconnected widgets\u201d exceeded expectations. Shares rose."
        ),
        evidence=[
            'CHIEF EXECUTIVE JANE ROE SAID DEMAND FOR "CONNECTED WIDGETS"',  # re-cased, cut
            "Shares rose.",  # two words: not evidence
            "A sentence the article never had in it.",
        ],
    )
    body = client.get(reverse("insights:news_article", args=[analysis.article.pk])).content
    html = body.decode()
    assert html.count("<blockquote>") == 1
    assert (
        "<blockquote>Chief executive Jane Roe said demand for \u201cconnected widgets\u201d "
        "exceeded expectations.</blockquote>" in html
    )
    assert "CHIEF EXECUTIVE" not in html and "never had" not in html


def test_api_evidence_is_the_same_mapping_as_the_page(auth_client) -> None:
    # An analysis stored before issue 20 holds the model's copy; the list and the detail
    # answer what the page shows: the article's own sentence, no quote under 4 words.
    analysis = AnalysisFactory(
        article__description=(
            "Acme Corp. reported results. Chief executive Jane Roe said demand for "
            "\u201cconnected widgets\u201d exceeded expectations. Shares rose."
        ),
        evidence=[
            'CHIEF EXECUTIVE JANE ROE SAID DEMAND FOR "CONNECTED WIDGETS"',
            "Shares rose.",
            "A sentence the article never had in it.",
        ],
    )
    own = (
        "Chief executive Jane Roe said demand for \u201cconnected widgets\u201d exceeded "
        "expectations."
    )
    listed = auth_client.get(API).json()["results"][0]["analysis"]["evidence"]
    detail = auth_client.get(f"{API}{analysis.article.pk}/").json()["analysis"]["evidence"]
    analysis.refresh_from_db()
    assert listed == detail == analysis.evidence_sentences() == [own]


def test_list_rows_show_the_year_only_when_it_is_not_this_year(client) -> None:
    now = datetime.now(UTC)
    this_year = ArticleFactory(title="Fresh story", published_at=now - timedelta(hours=1))
    old = ArticleFactory(title="Old story", published_at=datetime(2024, 3, 5, 9, 30, tzinfo=UTC))
    body = client.get(NEWS + "?since=2024-01-01").content.decode()
    assert "Mar 5, 2024, 09:30" in body
    assert f"{this_year.published_at:%b} {this_year.published_at.day}, " in body
    assert f"{this_year.published_at:%b} {this_year.published_at.day}, {now.year}" not in body
    assert old.title in body and this_year.title in body


def test_evidence_sentences_use_the_loaded_article_without_a_query(
    django_assert_num_queries,
) -> None:
    from insights.news.selectors import article_detail

    analysis = AnalysisFactory(
        article__description="Revenue rose 9% on strong demand.",
        evidence=["revenue rose 9% on strong demand"],
    )
    article = article_detail(analysis.article.pk)
    with django_assert_num_queries(0):
        assert article.analysis.evidence_sentences() == ["Revenue rose 9% on strong demand."]
