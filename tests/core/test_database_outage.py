"""A hung database must not hang every worker (issue 14 §2).

A production-like process (DEBUG off, PostgreSQL settings) is pointed at a socket that
accepts connections and never answers: /health answers 503 within 10 s, pages answer a 503
page and the API a 503 JSON, each within the connect timeout, never a 500 or a hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, connection

from qunex.middleware import is_database_outage
from tests.fakes import SilentServer

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, os, time
import django
django.setup()
from django.test import Client
from django.test.utils import override_settings

results = {}
plain = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
with override_settings(STORAGES=plain):
    client = Client(raise_request_exception=False)
    signed_in = Client(raise_request_exception=False)
    signed_in.cookies["sessionid"] = "x" * 32  # the session middleware reads the database
    for name, c, path in [("health", client, "/health"), ("page", client, "/stocks/?q=AA"),
                          ("api", client, "/api/market-data?symbols=AAPL"),
                          ("session", signed_in, "/portfolios/")]:
        started = time.monotonic()
        response = c.get(path)
        results[name] = {"status": response.status_code, "seconds": time.monotonic() - started,
                         "type": response.get("Content-Type", ""),
                         "retry": response.get("Retry-After"),
                         "body": response.content.decode()[:3000]}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def hung_database():
    with SilentServer() as server:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
        }
        env |= {
            "DJANGO_SETTINGS_MODULE": "qunex.settings",
            "DATABASE_URL": f"postgres://qunex@127.0.0.1:{server.port}/qunex",
            "DB_CONNECT_TIMEOUT": "2",
            "DEBUG": "false",
            "SECRET_KEY": "test-only-" + "k" * 40,
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
        }
        out = subprocess.run(
            [sys.executable, "-c", PROBE],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        yield json.loads(out.stdout.strip().splitlines()[-1])


def test_health_answers_503_within_ten_seconds(hung_database):
    health = hung_database["health"]
    assert health["status"] == 503
    assert health["seconds"] < 10
    body = json.loads(health["body"])
    assert body["checks"]["database"] == "error: OperationalError"


def test_a_page_answers_a_clear_503_page_fast(hung_database):
    page = hung_database["page"]
    assert page["status"] == 503
    assert page["seconds"] < 10
    assert page["type"].startswith("text/html")
    assert page["retry"] == "30"
    assert "Temporarily unavailable" in page["body"]
    assert "cannot reach its database" in page["body"]


def test_the_api_answers_503_json(hung_database):
    api = hung_database["api"]
    assert api["status"] == 503
    assert api["seconds"] < 10
    assert json.loads(api["body"]) == {"detail": "The database is unavailable; try again shortly."}


def test_a_failure_in_the_session_middleware_is_a_503_too(hung_database):
    """The session is read before any view runs: handler500 turns that outage into 503."""
    session = hung_database["session"]
    assert session["status"] == 503
    assert session["seconds"] < 10
    assert "Temporarily unavailable" in session["body"]


def test_statement_timeouts_are_recognised_as_outages():
    error = OperationalError("canceling statement due to statement timeout")
    assert is_database_outage(error)
    assert not is_database_outage(ValueError("statement timeout"))


@pytest.mark.django_db
def test_web_requests_run_under_a_statement_timeout():
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5s"
