from __future__ import annotations

import pytest

from tests.factories import TickerFactory
from tests.insights.news.analysis.fake_anthropic import FakeAnthropic


@pytest.fixture
def fake(settings):
    with FakeAnthropic() as server:
        settings.ANTHROPIC_API_KEY = "sk-ant-test"
        settings.ANTHROPIC_BASE_URL = server.url
        settings.ANTHROPIC_TIMEOUT = 2
        settings.ANTHROPIC_MAX_RETRIES = 1
        settings.NEWS_ANALYSIS_MODEL = "claude-sonnet-4-6"
        settings.NEWS_ANALYSIS_PRICE_INPUT = "3.00"
        settings.NEWS_ANALYSIS_PRICE_OUTPUT = "15.00"
        settings.NEWS_ANALYSIS_PRICE_CACHE_READ = "0.30"
        settings.NEWS_ANALYSIS_PRICE_CACHE_WRITE = "3.75"
        settings.NEWS_ANALYSIS_MAX_COST_USD = "1.00"
        yield server


@pytest.fixture
def acme(db):
    return TickerFactory(symbol="ACME", name="Acme Corp")
