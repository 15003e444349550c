"""News test set-up: a fake wire under the real session for every news source."""

from __future__ import annotations

import pytest

from tests.markets import FakeVendor, fake_session

FED = "https://www.federalreserve.gov/feeds/press_all.xml"
SEC = "https://www.sec.gov/news/pressreleases.rss"
POLY = "https://api.polygon.io"


@pytest.fixture
def vendor(monkeypatch, settings) -> FakeVendor:
    vendor = FakeVendor()
    session = fake_session(vendor)
    monkeypatch.setattr("insights.news.sources.shared_session", lambda: session, raising=False)
    monkeypatch.setattr("insights.news.providers.base.shared_session", lambda: session)
    monkeypatch.setattr("insights.news.providers.base.budgeted_session", lambda: session)
    settings.NEWS_RSS_FEEDS = [f"fed|{FED}|Federal Reserve", f"sec|{SEC}|SEC"]
    settings.NEWSAPI_KEY = ""
    settings.FINNHUB_API_KEY = ""
    settings.POLYGON_API_KEY = "pk"
    settings.POLYGON_BASE_URL = POLY
    return vendor
