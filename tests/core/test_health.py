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


def test_health_503_names_the_cache_when_it_is_down(client):
    with mock.patch("qunex.views.cache.set", side_effect=ConnectionError("redis down")):
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "error: ConnectionError"}
