"""`refresh_keyless`, which `make run` starts once the server answers: offline it says so in
one line and exits 0; online it runs the keyless refreshes and reports a failed one in one
line without stopping the other."""

from __future__ import annotations

import http.server
import threading
from io import StringIO

import pytest
from django.core.management import call_command

from qunex.management.commands.refresh_keyless import network_reachable, server_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_offline_says_so_in_one_line_and_succeeds(settings):
    settings.CALENDAR_FOMC_URL = "http://127.0.0.1:1/fomc"  # nothing listens on port 1
    out = StringIO()
    call_command("refresh_keyless", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("refresh_keyless: no network (ConnectionRefusedError")
    assert "demo data stays" in lines[0]


def test_waits_for_the_server_and_gives_up_quietly():
    out = StringIO()
    call_command("refresh_keyless", wait_for="http://127.0.0.1:1/health", wait=0.2, stdout=out)
    assert out.getvalue().strip() == (
        "refresh_keyless: http://127.0.0.1:1/health did not answer in 0s; skipped."
    )


def test_online_runs_both_refreshes_and_a_failure_is_one_line(settings, local_server):
    assert server_answers(local_server, wait=1)  # a 404 is an answer
    assert network_reachable(local_server) == (True, "")
    settings.CALENDAR_FOMC_URL = f"{local_server}/fomc"
    settings.CALENDAR_BLS_ICS_URL = f"{local_server}/bls.ics"
    settings.NEWS_RSS_FEEDS = [f"fed|{local_server}/feed.xml|Federal Reserve"]
    settings.NEWSAPI_KEY = "would-be-used"  # masked: only keyless feeds are read
    out = StringIO()
    call_command("refresh_keyless", wait_for=local_server, stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0] == "refresh_keyless: network reachable: fetching official news and schedules."
    assert any(line.startswith("refresh_keyless: refresh_news: failed") for line in lines)
    assert any(line.startswith("refresh_keyless: refresh_calendar: failed") for line in lines)
    assert len(lines) == 3
