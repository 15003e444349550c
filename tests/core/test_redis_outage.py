"""Redis unreachable must not take the site down (issue 14 §1).

Each path that lives in the cache (the cache itself, DRF's throttles, allauth's rate limits,
the feed's throttle and its single-flight lock) is run against a Redis URL that refuses
connections and against a fake Redis that answers at first and then stops answering
mid-run (socket timeouts of 0.3 s). Pages, login and the API keep answering from a
per-process fallback, limits still hold per process, one warning is logged per interval,
/health still says 503, and when Redis answers again the cache goes back to it by itself.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from markets import quotes
from markets.api import throttles
from tests.factories import QuoteFactory, TickerFactory, UserFactory
from tests.fakes import FakeRedis, free_port, redis_cache_settings

pytestmark = pytest.mark.django_db
TIMEOUT = 0.3
OPEN = datetime(2025, 6, 10, 15, 0, tzinfo=UTC)  # a Tuesday, 11:00 New York


@pytest.fixture(params=["refused", "silent"])
def redis_down(request, settings):
    """The default cache on a Redis that is down: `refused` from the start, or `silent`
    after the first command has been answered (it stops answering mid-run)."""
    throttles.BOOK.clear()
    quotes.feed_forget()
    if request.param == "refused":
        with redis_cache_settings(settings, f"redis://127.0.0.1:{free_port()}/0", timeout=TIMEOUT):
            yield None
        return
    with FakeRedis() as server, redis_cache_settings(settings, server.url, timeout=TIMEOUT):
        assert cache.set("before", "answered") is True  # Redis works ...
        assert server.commands[-1] == "SET"
        server.silent = True  # ... and then hangs
        yield server
    throttles.BOOK.clear()


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_cache_operations_fall_back_and_only_the_first_waits(redis_down, caplog):
    caplog.set_level(logging.WARNING, logger="qunex.cache")
    _, first = timed(lambda: cache.set("k", 1))
    assert first < TIMEOUT * 4
    (value, added, again), rest = timed(
        lambda: (cache.get("k"), cache.add("lock", 1, 10), cache.add("lock", 1, 10))
    )
    assert (value, added, again) == (1, True, False)  # per-process values and locks
    assert rest < TIMEOUT  # no operation waits for Redis while it is down
    warnings = [r for r in caplog.records if "Redis cache unavailable" in r.getMessage()]
    assert len(warnings) == 1


def test_health_still_reports_the_cache_outage(redis_down, client):
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["cache"].startswith("error: ")


def test_api_answers_and_drf_throttles_hold_per_process(redis_down, monkeypatch):
    from rest_framework.test import APIClient

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "3/min"})
    TickerFactory(symbol="AAPL")
    api = APIClient()
    api.force_authenticate(UserFactory())
    statuses = [api.get("/api/tickers/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_login_answers_and_allauth_limits_hold_per_process(redis_down, client, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "2/m/ip"}
    UserFactory(email="ann@example.com")
    responses = [
        client.post("/accounts/login/", {"login": "ann@example.com", "password": "wrong"})
        for _ in range(3)
    ]
    assert [r.status_code for r in responses] == [200, 200, 200]  # the form again, no 500
    assert "are not correct" in responses[0].content.decode()
    assert "Too many failed login attempts" in responses[2].content.decode()


def test_feed_answers_and_its_throttle_holds_per_process(redis_down, client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "1000/min"},
    }
    settings.POLYGON_API_KEY = settings.FINNHUB_API_KEY = settings.ALPHA_VANTAGE_API_KEY = ""
    QuoteFactory(ticker=TickerFactory(symbol="AAPL"))
    first = client.get("/api/market-data", {"symbols": "AAPL"})
    assert first.status_code == 200
    assert first.json()["quotes"][0]["symbol"] == "AAPL"
    etag = first["ETag"]
    assert client.get(
        "/api/market-data", {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag
    ).status_code in (
        200,
        304,
    )
    assert client.get("/api/market-data", {"symbols": "AAPL"}).status_code == 429


def test_feed_refresher_lease_holds_per_process(redis_down):
    """With Redis down the refresher's lease lives in process memory: one owner at a time,
    released only by its owner."""
    from markets.feedcache import FeedLease

    key = f"t:lease:{uuid.uuid4().hex}"
    first, second = FeedLease(key, ttl=60), FeedLease(key, ttl=60)
    (held, _), elapsed = timed(first.hold)
    assert held and elapsed < TIMEOUT * 4
    assert second.hold()[0] is False
    second.release()  # not the owner: nothing happens
    assert second.hold()[0] is False
    first.release()
    assert second.hold()[0] is True
    second.release()


def test_pages_render(redis_down, client):
    TickerFactory(symbol="AAPL")
    assert client.get("/").status_code == 200
    assert client.get("/stocks/", {"q": "AA"}).status_code == 200


def test_the_cache_goes_back_to_redis_by_itself(settings, caplog):
    caplog.set_level(logging.INFO, logger="qunex.cache")
    with (
        FakeRedis() as server,
        redis_cache_settings(settings, server.url, timeout=TIMEOUT, fallback=0.5),
    ):
        server.silent = True
        cache.set("k", "local")
        assert cache.degraded
        server.silent = False
        assert cache.get("k") == "local"  # still within the fallback interval
        time.sleep(0.6)
        assert cache.set("k", "redis") is True
        assert not cache.degraded
        assert server.data[next(k for k in server.data if k.endswith(b":k"))][0]
        assert cache.get("k") == "redis"
    messages = [r.getMessage() for r in caplog.records if r.name == "qunex.cache"]
    assert sum("unavailable" in m for m in messages) == 1
    assert sum("answering again" in m for m in messages) == 1
