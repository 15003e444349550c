"""Finnhub company news: GET /company-news?symbol=&from=&to= (https://finnhub.io/docs/api/company-news).

Finnhub needs a symbol per call; without `--tickers` the command asks for the active tickers
of the universe (capped by `NEWS_MAX_SYMBOLS`). Every call takes from Finnhub's shared budget
(60 a minute on the free tier, with the quote step and the web feed); the symbols it cannot
give within the run's time are deferred to the next run.
"""

from __future__ import annotations

from datetime import UTC, datetime

from insights.news.providers.base import (
    FetchResult,
    NewsItem,
    NewsSource,
    SourceError,
    make_item,
)


class FinnhubNews(NewsSource):
    name = "finnhub"
    budget_vendor = "finnhub"
    capability = "company_news"

    def fetch(
        self, *, since: datetime, symbols: list[str] | None = None, limit: int | None = None
    ) -> FetchResult:
        if not self.api_key:
            raise self.error("FINNHUB_API_KEY is not set", permanent=True)
        result = FetchResult()
        today = datetime.now(UTC).date()
        asked = list(symbols or [])
        for i, symbol in enumerate(asked):
            try:
                body = self.get_json(
                    f"{self.base_url}/company-news",
                    params={
                        "symbol": symbol,
                        "from": since.date().isoformat(),
                        "to": today.isoformat(),
                    },
                    headers={"X-Finnhub-Token": self.api_key},
                )
            except SourceError as exc:
                if exc.deferred and i:  # keep the symbols already fetched
                    return self.defer(result, exc, len(asked) - i)
                raise
            if not isinstance(body, list):
                raise self.error("company-news did not return a list", permanent=False)
            rows = body[:limit] if limit else body
            self.collect(result, rows, lambda raw, s=symbol: self.parse(raw, s))
        return result

    def parse(self, raw: dict, symbol: str) -> NewsItem:
        related = raw.get("related") if isinstance(raw.get("related"), str) else ""
        symbols = [symbol, *(s for s in related.split(",") if s.strip())]
        return make_item(
            source=self.name,
            url=raw.get("url"),
            title=raw.get("headline"),
            published_at=raw.get("datetime"),
            publisher=raw.get("source", ""),
            description=raw.get("summary", ""),
            image_url=raw.get("image", ""),
            symbols=symbols,
        )
