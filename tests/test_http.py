"""qunex.http against a real HTTP server on 127.0.0.1 (no network, no real waiting)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from qunex.http import USER_AGENT, DeadlineExceeded, ResponseTooLarge, make_session


class ScriptedServer:
    """Answers each request to a path with the next (status, headers, body) of its script;
    the last entry repeats. A status of None hangs until the server stops."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[tuple[int | None, dict[str, str], bytes]]] = {}
        self.hits: dict[str, int] = {}
        self.user_agents: list[str] = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                n = server.hits.get(self.path, 0)
                server.hits[self.path] = n + 1
                server.user_agents.append(self.headers.get("User-Agent", ""))
                script = server.scripts[self.path]
                status, headers, body = script[min(n, len(script) - 1)]
                if status is None:
                    server.stop.wait(5)
                    return
                self.send_response(status)
                for key, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def script(self, path: str, *responses: tuple[int | None, dict[str, str], bytes]) -> str:
        self.scripts[path] = list(responses)
        return self.url + path


OK = (200, {"Content-Type": "application/json"}, b'{"ok": true}')


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    thread = threading.Thread(target=srv.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.stop.set()
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def test_429_honours_retry_after_seconds(server: ScriptedServer, sleeps: list[float]) -> None:
    url = server.script("/a", (429, {"Retry-After": "7"}, b"slow down"), OK)
    session = make_session(sleep=sleeps.append)

    response = session.get(url)

    assert response.json() == {"ok": True}
    assert server.hits["/a"] == 2
    assert sleeps == [7]


def test_429_honours_retry_after_http_date(server: ScriptedServer, sleeps: list[float]) -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    url = server.script("/a", (429, {"Retry-After": when}, b""), OK)

    make_session(sleep=sleeps.append).get(url)

    assert server.hits["/a"] == 2
    assert len(sleeps) == 1
    assert 27 <= sleeps[0] <= 30


def test_retry_after_is_capped(server: ScriptedServer, sleeps: list[float]) -> None:
    url = server.script("/a", (429, {"Retry-After": "3600"}, b""), OK)

    make_session(sleep=sleeps.append, max_wait=60).get(url)

    assert sleeps == [60]


def test_503_then_200_is_retried(server: ScriptedServer, sleeps: list[float]) -> None:
    url = server.script("/a", (503, {}, b"<html>busy</html>"), OK)

    response = make_session(sleep=sleeps.append).get(url)

    assert response.status_code == 200
    assert server.hits["/a"] == 2
    assert sleeps == []  # urllib3: the first retry goes at once, then backoff doubles


def test_garbage_retry_after_falls_back_to_backoff(
    server: ScriptedServer, sleeps: list[float]
) -> None:
    url = server.script(
        "/a", (503, {"Retry-After": "soon"}, b""), (503, {"Retry-After": "soon"}, b""), OK
    )

    response = make_session(backoff=0.5, sleep=sleeps.append).get(url)

    assert response.status_code == 200
    assert sleeps == [1.0]


def test_5xx_backoff_doubles_then_raises(server: ScriptedServer, sleeps: list[float]) -> None:
    url = server.script("/a", (500, {}, b"oops"))

    with pytest.raises(requests.HTTPError) as exc:
        make_session(retries=3, backoff=0.5, sleep=sleeps.append).get(url)

    assert exc.value.response.status_code == 500
    assert server.hits["/a"] == 4
    assert sleeps == [1.0, 2.0]


def test_4xx_is_not_retried_and_raises(server: ScriptedServer, sleeps: list[float]) -> None:
    url = server.script("/a", (404, {}, b"{}"))

    with pytest.raises(requests.HTTPError) as exc:
        make_session(sleep=sleeps.append).get(url)

    assert exc.value.response.status_code == 404
    assert server.hits["/a"] == 1
    assert sleeps == []


def test_exhausted_429_raises_with_the_last_response(server: ScriptedServer) -> None:
    url = server.script("/a", (429, {"Retry-After": "1"}, b""))

    with pytest.raises(requests.HTTPError) as exc:
        make_session(retries=2, sleep=lambda s: None).get(url)

    assert exc.value.response.status_code == 429
    assert server.hits["/a"] == 3


def test_hanging_server_times_out_once(server: ScriptedServer, sleeps: list[float]) -> None:
    url = server.script("/hang", (None, {}, b""))
    session = make_session(timeout=0.3, sleep=sleeps.append)

    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        session.get(url)

    assert time.monotonic() - started < 2
    assert server.hits["/hang"] == 1


def test_user_agent_names_the_app_and_can_be_overridden(server: ScriptedServer) -> None:
    url = server.script("/a", OK)

    make_session().get(url)
    make_session(user_agent="Qunex admin@example.com").get(url)

    assert server.user_agents == [USER_AGENT, "Qunex admin@example.com"]


# --- size cap and overall deadline (issue 20 §4) -------------------------------------------


class StreamingServer:
    """A raw HTTP/1.1 server on 127.0.0.1 whose body is written by `body(wfile)`: a trickle,
    or a stream that never says its length."""

    def __init__(self, body, headers: dict[str, str] | None = None) -> None:
        stop = threading.Event()
        self.stop = stop

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self.send_response(200)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Connection", "close")
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    body(self.wfile, stop)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/feed"

    def __enter__(self) -> StreamingServer:
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def trickle(interval: float):
    def body(wfile, stop: threading.Event) -> None:
        while not stop.wait(interval):
            wfile.write(b"<")
            wfile.flush()

    return body


def test_trickling_server_is_cut_at_the_deadline_not_held_per_read() -> None:
    # A byte every 0.4 s never trips the 1 s read timeout; the 1.5 s deadline cuts the call.
    with StreamingServer(trickle(0.4), {"Content-Type": "application/rss+xml"}) as srv:
        session = make_session(timeout=1, deadline=1.5, sleep=lambda s: None)
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded, match=r"1\.5 s deadline"):
            session.get(srv.url)
        elapsed = time.monotonic() - started
    assert 1.4 <= elapsed < 2.5
    assert isinstance(DeadlineExceeded("x"), requests.Timeout)  # callers count it as a timeout


def test_body_over_the_cap_is_refused_while_streaming() -> None:
    def endless(wfile, stop: threading.Event) -> None:  # no Content-Length: 64 KiB at a time
        block = b"x" * 65536
        for _ in range(400):  # 26 MB if nobody stops reading
            if stop.is_set():
                return
            wfile.write(block)

    with StreamingServer(endless) as srv:
        session = make_session(max_bytes=1_000_000)
        with pytest.raises(ResponseTooLarge, match="over the 1000000-byte cap"):
            session.get(srv.url)


def test_declared_length_over_the_cap_is_refused_before_reading(server: ScriptedServer) -> None:
    url = server.script("/big", (200, {}, b"y" * 2_000_001))
    with pytest.raises(ResponseTooLarge, match="2000001 bytes"):
        make_session(max_bytes=2_000_000).get(url)


def test_body_at_the_cap_is_read_whole_and_gzip_counts_decoded_bytes(
    server: ScriptedServer,
) -> None:
    import gzip

    url = server.script("/ok", (200, {}, b"z" * 1000))
    assert make_session(max_bytes=1000).get(url).content == b"z" * 1000
    bomb = gzip.compress(b"0" * 3_000_000)  # 3 KB on the wire, 3 MB once decoded
    url = server.script("/gz", (200, {"Content-Encoding": "gzip"}, bomb))
    with pytest.raises(ResponseTooLarge):
        make_session(max_bytes=1_000_000).get(url)
    assert make_session(max_bytes=3_000_000).get(url).content == b"0" * 3_000_000


def test_error_bodies_are_capped_too(server: ScriptedServer) -> None:
    url = server.script("/err", (404, {}, b"e" * 50_000))
    with pytest.raises(ResponseTooLarge):
        make_session(max_bytes=10_000).get(url)
    with pytest.raises(requests.HTTPError) as info:
        make_session(max_bytes=100_000).get(url)
    assert len(info.value.response.content) == 50_000


def test_shared_session_follows_the_settings(settings) -> None:
    from qunex.http import shared_session

    settings.HTTP_MAX_BYTES = 1234
    settings.HTTP_DEADLINE = 3
    adapter = shared_session().get_adapter("https://example.com")
    assert (adapter.max_bytes, adapter.deadline) == (1234, 3)
    settings.HTTP_MAX_BYTES = 4321
    assert shared_session().get_adapter("https://example.com").max_bytes == 4321


def test_retry_waits_come_on_top_of_the_deadline(server: ScriptedServer) -> None:
    # A 429 asking for 1 s, then 200: the deliberate wait does not eat the 0.8 s deadline.
    url = server.script("/busy", (429, {"Retry-After": "1"}, b""), OK)
    response = make_session(deadline=0.8).get(url)
    assert response.json() == {"ok": True} and server.hits["/busy"] == 2


def test_every_outbound_call_goes_through_the_one_session() -> None:
    """No module reaches the network around qunex.http (so none escapes the size cap and the
    deadline): no bare requests/urllib/http.client/httpx calls, and feedparser only ever
    parses bytes the session fetched, never a URL."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    apps = ["qunex", "markets", "portfolios", "backtests", "insights", "accounts"]
    forbidden = re.compile(
        r"requests\.(get|post|put|delete|head|request)\(|urllib\.request|urlopen\(|"
        r"http\.client|httpx\.|aiohttp|requests\.Session\("
    )
    offenders = []
    for app in apps:
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            source = path.read_text()
            for n, line in enumerate(source.splitlines(), 1):
                code = line.split("#", 1)[0]
                if forbidden.search(code) and path.name != "http.py":
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
                if "feedparser.parse(" in code and ".content" not in code:
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert offenders == []
