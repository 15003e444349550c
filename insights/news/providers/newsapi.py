"""NewsAPI: GET /v2/everything and /v2/top-headlines (https://newsapi.org/docs/endpoints).

Top business headlines (US) always; `everything` once per ticker asked for, searching the
symbol and the company name. The key travels in the `X-Api-Key` header, never the URL.
NewsAPI reports errors as `{"status": "error", "code": ..., "message": ...}`.
Every call takes from NewsAPI's budget (NEWSAPI_CALLS_PER_DAY, 100 on the free plan).
"""

from __future__ import annotations

from datetime import datetime

from insights.news.providers.base import (
    FetchResult,
    NewsItem,
    NewsSource,
    SourceError,
    make_item,
)

_PERMANENT_CODES = {"apiKeyInvalid", "apiKeyDisabled", "apiKeyMissing", "parameterInvalid"}


class NewsApiSource(NewsSource):
    name = "newsapi"
    budget_vendor = "newsapi"
    page_size = 100

    def fetch(
        self,
        *,
        since: datetime,
        symbols: list[str] | None = None,
        limit: int | None = None,
        names: dict[str, str] | None = None,
    ) -> FetchResult:
        if not self.api_key:
            raise self.error("NEWSAPI_KEY is not set", permanent=True)
        result = FetchResult()
        size = min(self.page_size, limit or self.page_size)
        self._call(
            result,
            "top-headlines",
            {"category": "business", "country": "us", "pageSize": size},
            symbol=None,
        )
        asked = list(symbols or [])
        for i, symbol in enumerate(asked):
            name = (names or {}).get(symbol, "")
            query = f'"{symbol}"' + (f' OR "{name}"' if name else "")
            try:
                self._call(
                    result,
                    "everything",
                    {
                        "q": query,
                        "from": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "language": "en",
                        "sortBy": "publishedAt",
                        "pageSize": size,
                    },
                    symbol=symbol,
                )
            except SourceError as exc:
                if exc.deferred:  # keep the headlines and the symbols already fetched
                    return self.defer(result, exc, len(asked) - i)
                raise
        return result

    def _call(self, result: FetchResult, endpoint: str, params: dict, *, symbol: str | None):
        body = self.get_json(
            f"{self.base_url}/v2/{endpoint}", params=params, headers={"X-Api-Key": self.api_key}
        )
        if not isinstance(body, dict):
            raise self.error("response is not an object", permanent=False)
        if body.get("status") == "error":
            code = str(body.get("code", ""))
            raise self.error(
                f"{code}: {str(body.get('message', ''))[:200]}", permanent=code in _PERMANENT_CODES
            )
        articles = body.get("articles")
        if not isinstance(articles, list):
            raise self.error("response has no articles list", permanent=False)
        self.collect(result, articles, lambda raw: self.parse(raw, symbol))

    def parse(self, raw: dict, symbol: str | None) -> NewsItem:
        source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
        return make_item(
            source=self.name,
            url=raw.get("url"),
            title=raw.get("title"),
            published_at=raw.get("publishedAt"),
            publisher=source.get("name", ""),
            description=raw.get("description", ""),
            content=raw.get("content", ""),
            author=raw.get("author", ""),
            image_url=raw.get("urlToImage", ""),
            # `everything` searched for this symbol: the text matcher decides whether the
            # article really names it, so the search term is not a vendor tag.
            symbols=(),
        )
