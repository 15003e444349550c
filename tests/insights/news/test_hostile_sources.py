"""refresh_news against hostile feeds on a real HTTP server on 127.0.0.1 (issue 20 §4).

Nothing is faked below the socket: the sources go through `qunex.http.shared_session()`,
built from HTTP_TIMEOUT / HTTP_MAX_BYTES / HTTP_DEADLINE, so the cap and the deadline tested
here are the ones every vendor, EDGAR, feed and calendar call gets.
"""

from __future__ import annotations

import contextlib
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from insights.news.models import Article
from qunex.models import JobRun
from tests.fakes import LoopbackHTTP

Body = Callable[[Any, threading.Event], None]


def rss(*items: tuple[str, str, datetime]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        f"<pubDate>{format_datetime(at)}</pubDate></item>"
        for title, link, at in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Test</title><link>https://feeds.example.com/</link>{entries}</channel></rss>"
    ).encode()


class FeedServer(LoopbackHTTP):
    """Serves `routes[path](wfile, stop)` after a 200 and an RSS content type; no
    Content-Length, so a client can only learn the size by reading."""

    def __init__(self, routes: dict[str, Body]) -> None:
        stop = threading.Event()
        self.sent: dict[str, int] = {}
        sent = self.sent

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.end_headers()
                counting = _Counting(self.wfile, sent, self.path)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    routes[self.path](counting, stop)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler, stop)
        self.base = self.origin


class _Counting:
    def __init__(self, wfile: Any, sent: dict[str, int], path: str) -> None:
        self.wfile, self.sent, self.path = wfile, sent, path

    def write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()
        self.sent[self.path] = self.sent.get(self.path, 0) + len(data)


def once(body: bytes) -> Body:
    return lambda wfile, stop: wfile.write(body)


def huge(total: int) -> Body:
    """A valid feed start, then `total` bytes of padding inside a comment."""

    def write(wfile: Any, stop: threading.Event) -> None:
        wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><!--')
        block = b"x" * 65536
        for _ in range(total // len(block)):
            if stop.is_set():
                return
            wfile.write(block)
        wfile.write(b"--></channel></rss>")

    return write


def trickle(interval: float) -> Body:
    def write(wfile: Any, stop: threading.Event) -> None:
        wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        while not stop.wait(interval):
            wfile.write(b" ")

    return write


@pytest.fixture
def feeds(settings) -> Iterator[Callable[[dict[str, Body]], FeedServer]]:
    servers: list[FeedServer] = []

    def start(routes: dict[str, Body]) -> FeedServer:
        server = FeedServer(routes).__enter__()
        servers.append(server)
        settings.NEWS_RSS_FEEDS = [f"{p.strip('/')}|{server.base}{p}|Feed {p}" for p in routes]
        return server

    settings.NEWSAPI_KEY = settings.POLYGON_API_KEY = settings.FINNHUB_API_KEY = ""
    settings.HTTP_TIMEOUT = 1  # per read: a byte every 0.4 s never trips it
    settings.HTTP_DEADLINE = 2  # per call: this is what cuts the trickle
    settings.HTTP_MAX_BYTES = 5_000_000
    yield start
    for server in servers:
        server.__exit__()


def _import_the_refresh() -> None:
    import feedparser  # noqa: F401
    from django.core.management import load_command_class

    import insights.news.services
    import insights.news.sources  # noqa: F401

    load_command_class("insights", "refresh_news")


def _run(*args: str) -> str:
    out = StringIO()
    call_command("refresh_news", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_20_mb_feed_and_a_trickling_feed_fail_alone_within_the_deadline(feeds) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    good = rss(("Bank raises its dividend", "https://bank.example.com/a", now - timedelta(hours=1)))
    server = feeds({"/good": once(good), "/big": huge(20_000_000), "/slow": trickle(0.4)})

    _import_the_refresh()  # run alone, first imports would count in the time and the peak
    tracemalloc.start()
    started = time.monotonic()
    try:
        out = _run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started

    run = JobRun.objects.get(command="refresh_news")
    assert run.status == JobRun.Status.PARTIAL
    assert (run.counts["failed"], run.counts["sources_ok"], run.counts["stored"]) == (2, 1, 1)
    assert "rss:big: response body is over the 5000000-byte cap" in out
    assert "rss:slow: no complete answer within the 2 s deadline" in out
    assert Article.objects.get().title == "Bank raises its dividend"
    # The trickle is cut at the 2 s deadline, not held a read timeout at a time for ever.
    assert elapsed < 6
    # Reading stopped at the cap: the 20 MB body is neither read whole nor held in memory.
    assert peak < 25_000_000
    assert server.sent.get("/big", 0) < 20_000_000


@pytest.mark.django_db
def test_an_item_dated_2099_is_refused_and_counted(feeds) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    feed = rss(
        ("From the future", "https://f.example.com/2099", datetime(2099, 1, 1, 9, tzinfo=UTC)),
        ("An hour ahead", "https://f.example.com/later", now + timedelta(hours=1)),
        ("Today's news", "https://f.example.com/today", now - timedelta(minutes=30)),
    )
    feeds({"/wire": once(feed)})

    _run()

    run = JobRun.objects.get(command="refresh_news")
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.counts["future_dated"] == 2 and run.counts["stored"] == 1
    assert list(Article.objects.values_list("title", flat=True)) == ["Today's news"]


def _stored_future_rows() -> tuple[Article, Article, Article]:
    """Rows stored before ingest refused future times: one dated 2099, one an hour ahead
    (both in one story with a real article), fetched two hours ago, and one real article."""
    from tests.factories import TickerFactory
    from tests.insights.news.factories import ArticleFactory, StoryGroupFactory

    now = datetime.now(UTC)
    acme = TickerFactory(symbol="ACME")
    story = StoryGroupFactory(
        first_published_at=now - timedelta(hours=3),
        last_published_at=datetime(2099, 1, 1, tzinfo=UTC),
    )
    far = ArticleFactory(title="Dated 2099", published_at=datetime(2099, 1, 1, tzinfo=UTC))
    ahead = ArticleFactory(
        title="An hour ahead", published_at=now + timedelta(hours=1), story=story
    )
    real = ArticleFactory(title="Real news", published_at=now - timedelta(hours=3), story=story)
    for article in (far, ahead, real):
        article.ticker_links.create(ticker=acme, origin="vendor")
    Article.objects.filter(pk__in=[far.pk, ahead.pk]).update(fetched_at=now - timedelta(hours=2))
    return far, ahead, real


@pytest.mark.django_db
def test_readers_ignore_stored_rows_dated_in_the_future(auth_client) -> None:
    from insights.news import selectors
    from insights.news.analysis.services import news_analyse
    from markets.models import Ticker

    _, ahead, _ = _stored_future_rows()

    page = auth_client.get("/news/").content.decode()
    assert "Real news" in page and "Dated 2099" not in page and "An hour ahead" not in page
    api = auth_client.get("/api/news/").json()
    assert [r["title"] for r in api["results"]] == ["Real news"]
    dashboard = selectors.latest_stories(limit=6)
    assert [row.article.title for row in dashboard] == ["Real news"]
    stock = selectors.ticker_news(Ticker.objects.get(symbol="ACME"))
    assert [article.title for article, _ in stock] == ["Real news"]
    # The analysis queue (dry run: only what it would pick) skips them too.
    assert news_analyse(offline=True, dry_run=True).selected == 1
    # A row a few seconds ahead (two clocks differing) is within the tolerance and shown.
    Article.objects.filter(pk=ahead.pk).update(
        published_at=datetime.now(UTC) + timedelta(seconds=30)
    )
    assert [r["title"] for r in auth_client.get("/api/news/").json()["results"]] == [
        "An hour ahead",
        "Real news",
    ]


@pytest.mark.django_db
def test_refresh_news_clamps_stored_future_rows_to_their_fetch_time_once(feeds) -> None:
    far, ahead, real = _stored_future_rows()
    now = datetime.now(UTC).replace(microsecond=0)
    feeds(
        {
            "/wire": once(
                rss(("Today's news", "https://f.example.com/t", now - timedelta(minutes=5)))
            )
        }
    )

    _run()

    run = JobRun.objects.get(command="refresh_news")
    assert run.counts["future_clamped"] == 2 and run.counts["stored"] == 1
    for row in (far, ahead):
        row.refresh_from_db()
        assert row.published_at == row.fetched_at  # the latest it can have been published
    real.refresh_from_db()
    assert real.published_at < now - timedelta(hours=2)  # real rows untouched
    story = real.story
    story.refresh_from_db()
    assert (story.first_published_at, story.last_published_at) == (
        real.published_at,
        ahead.published_at,
    )
    # Idempotent: the next run finds nothing to clamp and says nothing about it.
    _run()
    second = JobRun.objects.filter(command="refresh_news").latest("pk")
    assert "future_clamped" not in second.counts
    assert Article.objects.filter(published_at__gt=datetime.now(UTC)).count() == 0


@pytest.mark.django_db
def test_refresh_news_dry_run_counts_future_rows_without_clamping(feeds) -> None:
    far, _, _ = _stored_future_rows()
    now = datetime.now(UTC).replace(microsecond=0)
    feeds({"/wire": once(rss(("Today's news", "https://f.example.com/t", now)))})

    _run("--dry-run")

    assert JobRun.objects.get(command="refresh_news").counts["would_clamp_future"] == 2
    far.refresh_from_db()
    assert far.published_at.year == 2099
