from __future__ import annotations

from unittest import mock

import pytest
from django.db.utils import OperationalError

pytestmark = pytest.mark.django_db


def test_health_ok_when_database_and_cache_answer(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


def test_health_503_names_the_database_when_it_is_down(client):
    with mock.patch("qunex.views.connection.cursor", side_effect=OperationalError("gone")):
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "error: OperationalError"
    assert body["checks"]["cache"] == "ok"


def test_health_503_names_the_cache_when_it_is_down(client, settings):
    from tests.fakes import free_port, redis_cache_settings

    with redis_cache_settings(settings, f"redis://127.0.0.1:{free_port()}/0"):
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "error: ConnectionError"}


def test_health_pings_redis_at_most_once_per_interval_and_never_writes(client, settings):
    """Render probes /health every few seconds: Redis gets one PING per HEALTH_CACHE_SECONDS
    per process, and no SET/DEL ever; a known outage is checked again at once."""
    from qunex import views
    from tests.fakes import FakeRedis, redis_cache_settings

    views._CACHE_CHECK.clear()
    settings.HEALTH_CACHE_SECONDS = 300
    with FakeRedis() as server, redis_cache_settings(settings, server.url):
        for _ in range(20):
            assert client.get("/health").status_code == 200
        assert [c for c in server.commands if c not in {"HELLO", "CLIENT", "SELECT"}] == ["PING"]
        (key,) = views._CACHE_CHECK
        views._CACHE_CHECK[key] -= 301
        assert client.get("/health").status_code == 200
        assert server.commands.count("PING") == 2
    views._CACHE_CHECK.clear()


def test_health_needs_no_ping_while_the_feed_talks_to_redis(client, settings):
    from markets import feedcache, quotes
    from qunex import views
    from tests.fakes import FakeRedis, redis_cache_settings

    views._CACHE_CHECK.clear()
    with FakeRedis() as server, redis_cache_settings(settings, server.url):
        quotes.feed_forget()
        feedcache.feed_generation(interval=lambda: 30)  # the feed's own GET
        for _ in range(5):
            assert client.get("/health").status_code == 200
        assert "PING" not in server.commands
    quotes.feed_forget()
