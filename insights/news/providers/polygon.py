"""Polygon ticker news: GET /v2/reference/news (https://polygon.io/docs/stocks/get_v2_reference_news).

One call per ticker asked for (or one market-wide call), newest first, following `next_url`
until `limit` items or the `since` time is reached. Every page is a call from Polygon's
shared budget (5 a minute on the free tier, shared with the bars job and the web feed); the
key travels in the Authorization header, never the URL.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from insights.news.providers.base import (
    FetchResult,
    NewsItem,
    NewsSource,
    SourceError,
    make_item,
)


class PolygonNews(NewsSource):
    name = "polygon"
    budget_vendor = "polygon"
    page_size = 1000
    max_pages = 5

    def fetch(
        self, *, since: datetime, symbols: list[str] | None = None, limit: int | None = None
    ) -> FetchResult:
        if not self.api_key:
            raise self.error("POLYGON_API_KEY is not set", permanent=True)
        result = FetchResult()
        asked: list[str | None] = list(symbols or [None])
        for i, symbol in enumerate(asked):
            try:
                self._fetch_one(result, since=since, symbol=symbol, limit=limit)
            except SourceError as exc:
                if exc.deferred and (i or result.items):  # keep the pages already fetched
                    return self.defer(result, exc, len(asked) - i)
                raise
        return result

    def _fetch_one(
        self, result: FetchResult, *, since: datetime, symbol: str | None, limit: int | None
    ) -> None:
        wanted = limit or self.page_size * self.max_pages
        params: dict = {
            "published_utc.gte": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "order": "desc",
            "sort": "published_utc",
            "limit": min(self.page_size, wanted),
        }
        if symbol:
            params["ticker"] = symbol
        url = f"{self.base_url}/v2/reference/news"
        taken = 0
        auth = {"Authorization": f"Bearer {self.api_key}"}
        for _ in range(self.max_pages):
            body = self.get_json(url, params=params, headers=auth)
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise self.error("response has no results list", permanent=False)
            before = len(result.items)
            self.collect(result, body["results"][: wanted - taken], self.parse)
            taken += len(result.items) - before
            next_url = body.get("next_url")
            if taken >= wanted or not isinstance(next_url, str) or not next_url:
                return
            cursor = parse_qs(urlsplit(next_url).query).get("cursor")
            if not cursor:
                return
            params = {"cursor": cursor[0]}

    def parse(self, raw: dict) -> NewsItem:
        publisher = raw.get("publisher") if isinstance(raw.get("publisher"), dict) else {}
        tickers = raw.get("tickers") if isinstance(raw.get("tickers"), list) else []
        return make_item(
            source=self.name,
            url=raw.get("article_url"),
            title=raw.get("title"),
            published_at=raw.get("published_utc"),
            publisher=publisher.get("name", ""),
            description=raw.get("description", ""),
            author=raw.get("author", ""),
            image_url=raw.get("image_url", ""),
            symbols=tickers,
        )
