"""The free-tier fake vendor (tests/markets/free_tier_vendor.py) with the rest of the hourly
job's vendor endpoints, under the same limits (Polygon's and Finnhub's minute are the same
windows the market-data endpoints count against):

1. Polygon `/v2/reference/news`: `news_per_call` articles of the last hour, tagged with
   market symbols (entitled on the free tier).
2. Finnhub `/company-news` (free): one article per symbol a day; `/stock/insider-transactions`
   (free): no rows; `/calendar/economic`: 403, a premium endpoint.
3. NewsAPI `/v2/top-headlines`, `/v2/everything`: `newsapi_per_day` a day (developer plan
   100), then HTTP 429 `rateLimited`; the key in `X-Api-Key`.
4. SEC EDGAR (keyless, not budgeted): the ticker map lists every symbol but one in
   `sec_missing_every` (those go to Finnhub's insider fallback); submissions list no filings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from tests.markets.free_tier_vendor import FakeMarket, FreeTierLimits, FreeTierVendor


class HourlyJobVendor(FreeTierVendor):
    def __init__(
        self,
        market: FakeMarket,
        *,
        limits: FreeTierLimits | None = None,
        news_per_call: int = 20,
        newsapi_per_day: int = 100,
        sec_missing_every: int = 20,
        clock: Callable[[], float] | None = None,
    ) -> None:
        kwargs = {"clock": clock} if clock else {}
        super().__init__(market, limits=limits, **kwargs)
        self.keys["newsapi"] = "na-free"
        self.news_per_call = news_per_call
        self.newsapi_per_day = newsapi_per_day
        self.sec_missing_every = sec_missing_every

    def settings(self, settings) -> None:
        super().settings(settings)
        settings.NEWSAPI_KEY = self.keys["newsapi"]
        settings.NEWSAPI_BASE_URL = f"{self.url}/newsapi"
        settings.NEWSAPI_CALLS_PER_DAY = self.newsapi_per_day
        settings.SEC_TICKER_MAP_URL = f"{self.url}/sec/files/company_tickers.json"
        settings.SEC_DATA_BASE_URL = f"{self.url}/sec"
        settings.SEC_USER_AGENT = "Qunex Bench ops@example.com"

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def route(self, path: str, headers: dict[str, str]):
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/polygon/v2/reference/news":
            return self._polygon_news(headers)
        if parts.path in ("/finnhub/company-news", "/finnhub/stock/insider-transactions",
                          "/finnhub/calendar/economic"):  # fmt: skip
            return self._finnhub_more(parts.path.removeprefix("/finnhub"), query, headers)
        if parts.path.startswith("/newsapi/"):
            return self._newsapi(parts.path.removeprefix("/newsapi"), query, headers)
        if parts.path.startswith("/sec/"):
            return self._sec(parts.path.removeprefix("/sec"))
        return super().route(path, headers)

    def _article(self, n: int, symbol: str, hours_ago: float) -> dict:
        at = self._now() - timedelta(hours=hours_ago)
        return {"id": f"{symbol}-{at:%Y%m%d%H}-{n}", "symbol": symbol, "at": at}

    def _polygon_news(self, headers: dict[str, str]):
        if headers.get("Authorization") != f"Bearer {self.keys['polygon']}":
            self.calls["polygon:401"] += 1
            return 401, {"status": "ERROR", "error": "Unknown API Key"}, {}
        if self._over_minute("polygon", self.limits.polygon_per_minute):
            self.calls["polygon:429"] += 1
            return 429, {"status": "ERROR", "error": "You've exceeded the maximum requests per minute"}, {}  # fmt: skip
        self.calls["polygon:news"] += 1
        symbols = sorted(self.market.symbols)
        rows = []
        for n in range(self.news_per_call):
            symbol = symbols[(int(self.clock()) // 3600 * 7 + n) % len(symbols)]
            a = self._article(n, symbol, n / self.news_per_call)
            rows.append({
                "id": a["id"], "title": f"{symbol} Corp news item {a['id']}",
                "article_url": f"https://news.example.com/p/{a['id']}",
                "published_utc": a["at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                "publisher": {"name": "Example Wire"}, "tickers": [symbol],
            })  # fmt: skip
        return 200, {"status": "OK", "count": len(rows), "results": rows}, {}

    def _finnhub_more(self, path: str, query: dict[str, str], headers: dict[str, str]):
        if headers.get("X-Finnhub-Token") != self.keys["finnhub"]:
            return 401, {"error": "Invalid API key"}, {}
        if self._over_minute("finnhub", self.limits.finnhub_per_minute):
            self.calls["finnhub:429"] += 1
            return 429, {"error": "API limit reached. Please try again later."}, {}
        if path == "/calendar/economic":
            self.calls["finnhub:403"] += 1
            return 403, {"error": "You don't have access to this resource."}, {}
        symbol = query.get("symbol", "")
        if path == "/stock/insider-transactions":
            self.calls["finnhub:insiders"] += 1
            return 200, {"data": [], "symbol": symbol}, {}
        self.calls["finnhub:news"] += 1
        day = self._now().replace(hour=12, minute=0, second=0, microsecond=0)
        return 200, [{
            "category": "company", "datetime": int(day.timestamp()), "headline":
            f"{symbol} Corp daily note {day:%Y-%m-%d}", "id": 1, "related": symbol,
            "source": "Example", "summary": "", "url":
            f"https://finnhub.example.com/{symbol}/{day:%Y%m%d}",
        }], {}  # fmt: skip

    def _newsapi(self, path: str, query: dict[str, str], headers: dict[str, str]):
        if headers.get("X-Api-Key") != self.keys["newsapi"]:
            return 401, {"status": "error", "code": "apiKeyInvalid", "message": "bad key"}, {}
        today = self.today()
        with self._lock:
            over = self._days["newsapi", today] >= self.newsapi_per_day
            if not over:
                self._days["newsapi", today] += 1
        if over:
            self.calls["newsapi:429"] += 1
            return 429, {"status": "error", "code": "rateLimited", "message": "Too many requests"}, {}  # fmt: skip
        self.calls["newsapi:call"] += 1
        at = self._now() - timedelta(minutes=30)
        return 200, {"status": "ok", "totalResults": 1, "articles": [{
            "source": {"name": "Example Business"}, "title": f"Markets at {at:%Y-%m-%d %H}h",
            "url": f"https://business.example.com/{at:%Y%m%d%H}",
            "publishedAt": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }]}, {}  # fmt: skip

    def _sec(self, path: str):
        self.calls["sec:call"] += 1
        if path == "/files/company_tickers.json":
            rows = {}
            for i, symbol in enumerate(sorted(self.market.symbols)):
                if (
                    self.sec_missing_every
                    and i % self.sec_missing_every == self.sec_missing_every - 1
                ):
                    continue
                rows[str(i)] = {"cik_str": 1000 + i, "ticker": symbol, "title": f"{symbol} Corp"}
            return 200, rows, {}
        if path.startswith("/submissions/"):
            return 200, {"filings": {"recent": {"accessionNumber": [], "form": [],
                                                "filingDate": [], "primaryDocument": []}}}, {}  # fmt: skip
        return 404, {"error": "no such route"}, {}
