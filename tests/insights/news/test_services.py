"""Ingest: canonical URLs, ticker linking, story grouping, idempotence and atomicity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import IntegrityError

from insights.news.models import Article, ArticleTicker, StoryGroup
from insights.news.services import (
    Ingestor,
    TickerMatcher,
    canonical_url,
    ingest,
    jaccard,
    short_name,
    title_tokens,
)
from tests.factories import TickerFactory
from tests.insights.news.factories import ArticleFactory, item

T0 = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (
            "https://WWW.Example.com:443/a/b?utm_source=x&id=7&UTM_Medium=y&fbclid=1&gclid=2#top",
            "https://www.example.com/a/b?id=7",
        ),
        ("http://example.com", "http://example.com/"),
        (
            "https://example.com/p?mc_cid=1&mc_eid=2&page=2&ref=home",
            "https://example.com/p?page=2&ref=home",
        ),
        # Parameters that name content on some sites are kept (issue 20 §5).
        (
            "https://news.example.com/view?cid=101&src=rss&share=1&feature=x&rss=1&utm_campaign=z",
            "https://news.example.com/view?cid=101&src=rss&share=1&feature=x&rss=1",
        ),
        ("https://example.com/a?msclkid=1&_ga=2&_gl=3&igshid=4&mkt_tok=5", "https://example.com/a"),
        ("https://example.com:8443/p?q=a%20b", "https://example.com:8443/p?q=a+b"),
    ],
)
def test_canonical_url(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("Apple Inc.", "Apple"),
        ("Microsoft Corporation", "Microsoft"),
        ("Alphabet Inc. Class A", "Alphabet"),
        ("JPMorgan Chase & Co.", "JPMorgan Chase &"),
        ("The Coca-Cola Company", "Coca-Cola"),
    ],
)
def test_short_name(name: str, short: str) -> None:
    assert short_name(name).rstrip(" &") == short.rstrip(" &")


MATCHER = TickerMatcher(
    [
        (1, "AAPL", "Apple Inc."),
        (2, "A", "Agilent Technologies, Inc."),
        (3, "ALL", "The Allstate Corporation"),
        (4, "IT", "Gartner, Inc."),
        (5, "ON", "ON Semiconductor Corporation"),
        (6, "NOW", "ServiceNow, Inc."),
        (7, "MSFT", "Microsoft Corporation"),
        (8, "TGT", "Target Corporation"),
        (9, "BRK.B", "Berkshire Hathaway Inc."),
        (10, "COST", "Costco Wholesale Corporation"),
        (11, "CAT", "Caterpillar Inc."),
        (12, "HD", "The Home Depot, Inc."),
        (13, "MA", "Mastercard Incorporated"),
        (14, "KO", "The Coca-Cola Company"),
    ]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$AAPL jumps", {1}),
        ("AAPL jumps", {1}),
        ("Apple Inc (AAPL) reports", {1}),
        ("Shares of NASDAQ: AAPL rose", {1}),
        ("Apple launches a phone", {1}),
        ("Pineapple prices rise", set()),
        ("AAPLX is a fund", set()),
        ("IT spending is ALL up and it is NOW or never, says A analyst ON Monday", set()),
        (
            "Agilent (NYSE: A) beats; $ALL rises; Gartner (IT) and (NASDAQ: ON) too; $NOW",
            {2, 3, 4, 5, 6},
        ),
        ("Microsoft Corp. and MSFT", {7}),
        ("Shop at Target this weekend", set()),  # generic short name
        ("Target Corporation raises outlook", {8}),
        ("BRK.B and Berkshire Hathaway", {9}),
        ("The Allstate Corporation pays", {3}),
        # The common-word rule holds in parentheses too; only "$" or an exchange prefix lifts it.
        ("Class (A) shares and (ALL) of them; IT budgets (IT) grow", set()),
        ("Agilent Technologies (A) rises", {2}),  # by its name, not by "(A)"
        ("(NYSE: IT) and $A", {2, 4}),
        # All-caps headlines: words link only with a name or cashtag behind them.
        ("COST OF LIVING RISES AS CAT AND HD FANS PAY MORE, MA AND KO SAY", set()),
        ("MICROSOFT (MSFT) SHARES JUMP", {7}),
        ("MSFT SHARES JUMP ON CLOUD DEAL", set()),
        ("MSFT SHARES JUMP ON CLOUD DEAL\nMicrosoft Corporation said on Monday", {7}),
        ("$MSFT SHARES JUMP, MSFT TOPS", {7}),
        ("Apple (AAPL) and MSFT rally", {1, 7}),
    ],
)
def test_ticker_matching_uses_word_boundaries(text: str, expected: set[int]) -> None:
    assert MATCHER.match(text) == expected


def test_vendor_tags_only_link_known_symbols() -> None:
    assert MATCHER.vendor(["AAPL", "ZZZZ"]) == {1}


def test_title_tokens_and_jaccard() -> None:
    a = title_tokens("Apple Shares Climb After Record iPhone Sales In Holiday Quarter")
    b = title_tokens(
        "Apple shares climb after record iPhone sales in holiday quarter, analysts say"
    )
    assert a == {"apple", "share", "climb", "record", "iphone", "sale", "holiday", "quarter"}
    assert jaccard(a, b) == pytest.approx(8 / 9)  # b adds "analyst"; "say" is a stop word
    assert jaccard(a, title_tokens("Apple unveils a new Mac Pro")) < 0.5


@pytest.mark.django_db
def test_ingest_links_tickers_groups_stories_and_is_idempotent() -> None:
    apple = TickerFactory(symbol="AAPL", name="Apple Inc.")
    msft = TickerFactory(symbol="MSFT", name="Microsoft Corporation")
    items = [
        item(
            "Apple Shares Climb After Record iPhone Sales In Holiday Quarter",
            "https://a.example.com/1?utm_source=x",
            at=T0,
            publisher="Benzinga",
            symbols=("AAPL", "ZZZZ"),
            description="Microsoft Corporation shares were flat.",
        ),
        item(
            "Apple shares climb after record iPhone sales in holiday quarter, analysts say",
            "https://b.example.com/2",
            at=T0 + timedelta(hours=3),
            publisher="Reuters",
        ),
        item("Apple unveils a new Mac Pro", "https://c.example.com/3", at=T0, publisher="Verge"),
        item("Duplicate by tracking param", "https://a.example.com/1?utm_medium=y", at=T0),
    ]

    stats = ingest(items)

    assert (stats.created, stats.duplicates, stats.grouped) == (3, 1, 1)
    first = Article.objects.get(url="https://a.example.com/1")
    second = Article.objects.get(url="https://b.example.com/2")
    third = Article.objects.get(url="https://c.example.com/3")
    assert first.story_id == second.story_id != third.story_id
    story = first.story
    assert (story.first_published_at, story.last_published_at) == (T0, T0 + timedelta(hours=3))
    links = set(ArticleTicker.objects.values_list("article_id", "ticker_id", "origin"))
    assert links == {
        (first.pk, apple.pk, "vendor"),
        (first.pk, msft.pk, "matched"),
        (second.pk, apple.pk, "matched"),
        (third.pk, apple.pk, "matched"),
    }

    again = ingest(items)
    assert (again.created, again.duplicates) == (0, 4)
    assert Article.objects.count() == 3 and StoryGroup.objects.count() == 2


@pytest.mark.django_db
def test_urls_differing_by_a_content_parameter_are_two_articles() -> None:
    stats = ingest(
        [
            item("Bank raises its dividend", "https://news.example.com/view?cid=101", at=T0),
            item("Miner cuts its output", "https://news.example.com/view?cid=102", at=T0),
            item(
                "Miner cuts output", "https://news.example.com/view?cid=102&utm_source=rss", at=T0
            ),
        ]
    )
    assert (stats.created, stats.duplicates) == (2, 1)
    assert set(Article.objects.values_list("url", flat=True)) == {
        "https://news.example.com/view?cid=101",
        "https://news.example.com/view?cid=102",
    }


@pytest.mark.django_db
def test_items_dated_in_the_future_are_refused_and_counted() -> None:
    now = datetime.now(UTC)
    stats = ingest(
        [
            item("Dated 2099", "https://x.example.com/1", at=datetime(2099, 1, 1, tzinfo=UTC)),
            item("Ten minutes ahead", "https://x.example.com/2", at=now + timedelta(minutes=10)),
            item(
                "Clock skew of a minute", "https://x.example.com/3", at=now + timedelta(minutes=1)
            ),
        ]
    )
    assert (stats.created, stats.future) == (1, 2)
    assert list(Article.objects.values_list("title", flat=True)) == ["Clock skew of a minute"]
    assert any("2099-01-01" in r and "future" in r for r in stats.reasons)


@pytest.mark.django_db
def test_grouping_joins_stored_articles_only_within_48_hours() -> None:
    stored = ArticleFactory(
        title="Fed holds interest rates steady, signals two cuts next year", published_at=T0
    )
    near = item(
        "Fed holds interest rates steady and signals two cuts next year",
        "https://x.example.com/near",
        at=T0 + timedelta(hours=47),
    )
    far = item(
        "Fed holds interest rates steady, signals two cuts next year!",
        "https://x.example.com/far",
        at=T0 + timedelta(hours=49, minutes=1) + timedelta(hours=48),
    )

    ingest([near, far])

    assert Article.objects.get(url=near.url).story_id == stored.story_id
    assert Article.objects.get(url=far.url).story_id != stored.story_id
    stored.story.refresh_from_db()
    assert stored.story.last_published_at == near.published_at


@pytest.mark.django_db
def test_dry_run_stores_nothing() -> None:
    stats = Ingestor(dry_run=True).ingest(
        [item("Some headline here today", "https://x.example.com/1")]
    )
    assert stats.created == 1
    assert Article.objects.count() == 0 and StoryGroup.objects.count() == 0


@pytest.mark.django_db
def test_a_failing_batch_leaves_nothing_half_stored() -> None:
    items = [
        item(f"Headline {n} about markets today", f"https://x.example.com/{n}") for n in range(5)
    ]
    with (
        mock.patch.object(ArticleTicker.objects, "bulk_create", side_effect=IntegrityError("boom")),
        pytest.raises(IntegrityError),
    ):
        ingest(items)
    assert Article.objects.count() == 0 and StoryGroup.objects.count() == 0

    ingest(items)
    assert Article.objects.count() == 5


@pytest.mark.django_db
def test_batches_are_written_separately_and_grouping_spans_batches() -> None:
    items = [
        item("Oil prices surge as OPEC cuts output sharply", "https://x.example.com/a", at=T0),
        item("Unrelated story about bank earnings growth", "https://x.example.com/b", at=T0),
        item(
            "Oil prices surge after OPEC cuts output sharply",
            "https://x.example.com/c",
            at=T0 + timedelta(hours=1),
        ),
    ]
    Ingestor(batch_size=1).ingest(items)
    a, b, c = (Article.objects.get(url=i.url) for i in items)
    assert a.story_id == c.story_id != b.story_id
