"""Keyless public feeds (RSS/Atom) parsed with feedparser.

The bytes are fetched through the shared session (timeouts, retries, one User-Agent; sec.gov
and bls.gov get `SEC_USER_AGENT` as their fair-access policies require) and handed to feedparser as bytes:
feedparser never fetches a URL itself.
"""

from __future__ import annotations

import time
from calendar import timegm
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import feedparser

from insights.news.providers.base import FetchResult, NewsItem, NewsSource, make_item

# Agencies whose fair-access policies block anonymous scripts: they get the declared
# "Name email" User-Agent (settings.SEC_USER_AGENT).
DECLARED_UA_HOSTS = ("sec.gov", "bls.gov")


@dataclass(frozen=True)
class Feed:
    key: str  # short id, e.g. "fed": the article source is "rss:fed"
    url: str
    publisher: str


def parse_feed_setting(entries: list[str]) -> list[Feed]:
    """`NEWS_RSS_FEEDS` entries are "key|url|publisher"; a malformed entry is a clear error."""
    feeds = []
    for entry in entries:
        parts = [p.strip() for p in entry.split("|")]
        if len(parts) != 3 or not all(parts) or urlsplit(parts[1]).scheme not in ("http", "https"):
            raise ValueError(f"NEWS_RSS_FEEDS entry {entry!r} is not 'key|https://url|Publisher'")
        feeds.append(Feed(key=parts[0][:30], url=parts[1], publisher=parts[2][:120]))
    return feeds


class RssSource(NewsSource):
    """One feed."""

    needs_key = False

    def __init__(self, feed: Feed, *, sec_user_agent: str = "", **kwargs) -> None:
        super().__init__("", **kwargs)
        self.feed = feed
        self.sec_user_agent = sec_user_agent

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"rss:{self.feed.key}"

    def headers(self) -> dict[str, str]:
        host = (urlsplit(self.feed.url).hostname or "").lower()
        declared = any(host == h or host.endswith(f".{h}") for h in DECLARED_UA_HOSTS)
        if self.sec_user_agent and declared:
            return {"User-Agent": self.sec_user_agent}
        return {}

    def fetch(
        self, *, since: datetime, symbols: list[str] | None = None, limit: int | None = None
    ) -> FetchResult:
        response = self.get(self.feed.url, headers=self.headers())
        parsed = feedparser.parse(response.content)
        if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
            exc = parsed.get("bozo_exception")
            kind = type(exc).__name__ if exc else "no RSS or Atom document"
            raise self.error(f"not a feed: {kind}", permanent=False)
        result = FetchResult()
        entries = parsed.entries[:limit] if limit else parsed.entries
        self.collect(result, entries, self.parse)
        result.items = [i for i in result.items if i.published_at >= since]
        return result

    def parse(self, entry) -> NewsItem:
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        if not isinstance(stamp, time.struct_time):
            raise ValueError("entry has no publication time")
        return make_item(
            source=self.name,
            url=entry.get("link"),
            title=entry.get("title"),
            published_at=datetime.fromtimestamp(timegm(stamp), UTC),
            publisher=self.feed.publisher,
            description=entry.get("summary", ""),
            author=entry.get("author", ""),
            # Feed categories are topics ("Monetary Policy"), not tickers: no vendor tags.
        )
