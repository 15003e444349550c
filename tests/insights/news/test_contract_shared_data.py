"""Contract test: the Polygon news adapter and the ingest over the real recorded response in
../shared/data (read in place, never copied). Skipped when the folder is absent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings

from insights.news.models import Article, ArticleTicker
from insights.news.providers.polygon import PolygonNews
from insights.news.services import ingest
from tests.factories import TickerFactory
from tests.markets import FakeVendor, fake_session

RECORDING = (
    Path(settings.BASE_DIR).parent / "shared" / "data" / "polygon" / "reference_news_NFLX.json"
)
if not RECORDING.is_file():  # pragma: no cover - depends on the machine
    pytest.skip(f"recorded Polygon news not found at {RECORDING}", allow_module_level=True)

API = "https://api.polygon.io"


@pytest.mark.django_db
def test_polygon_news_recording_parses_and_ingests() -> None:
    raw = RECORDING.read_bytes()
    body = json.loads(raw)
    vendor = FakeVendor()
    vendor.add(f"{API}/v2/reference/news", raw)
    source = PolygonNews("pk", session=fake_session(vendor), base_url=API)

    result = source.fetch(since=datetime(2000, 1, 1, tzinfo=UTC), symbols=["NFLX"])

    assert len(result.items) + result.skipped == len(body["results"])
    assert result.skipped == 0
    first, raw_first = result.items[0], body["results"][0]
    assert first.url == raw_first["article_url"]
    assert first.publisher == raw_first["publisher"]["name"]
    assert first.published_at == datetime.fromisoformat(
        raw_first["published_utc"].replace("Z", "+00:00")
    )
    assert set(first.symbols) == set(raw_first["tickers"])
    assert all("NFLX" in i.symbols for i in result.items)

    netflix = TickerFactory(symbol="NFLX", name="Netflix, Inc.")
    stats = ingest(result.items)
    assert stats.created == Article.objects.count() == len({i.url for i in result.items})
    assert ArticleTicker.objects.filter(ticker=netflix).count() == stats.created
