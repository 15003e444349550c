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
from tests.fakes import LoopbackHTTP


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

    make_session(sleep=sleeps.append, deadline=120).get(url)

    assert server.hits["/a"] == 2
    assert len(sleeps) == 1
    assert 27 <= sleeps[0] <= 30


def test_retry_after_is_capped(server: ScriptedServer, sleeps: list[float]) -> None:
    url = server.script("/a", (429, {"Retry-After": "3600"}, b""), OK)

    make_session(sleep=sleeps.append, max_wait=60, deadline=120).get(url)

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


class StreamingServer(LoopbackHTTP):
    """A raw HTTP/1.1 server on 127.0.0.1 whose body is written by `body(wfile)`: a trickle,
    or a stream that never says its length."""

    def __init__(self, body, headers: dict[str, str] | None = None) -> None:
        stop = threading.Event()

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

        super().__init__(Handler, stop)
        self.url = f"{self.origin}/feed"


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


def test_retry_waits_count_against_the_deadline(server: ScriptedServer) -> None:
    # A 429 asking for 1 s with 0.8 s left: waiting could only end past the deadline, so the
    # call fails at once instead of sleeping; a wait that fits is waited.
    slept: list[float] = []
    url = server.script("/busy", (429, {"Retry-After": "1"}, b""), OK)
    with pytest.raises(DeadlineExceeded, match=r"a retry in 1 s would pass it"):
        make_session(deadline=0.8, sleep=slept.append).get(url)
    assert slept == [] and server.hits["/busy"] == 1
    url = server.script("/soon", (429, {"Retry-After": "1"}, b""), OK)
    assert make_session(deadline=5, sleep=slept.append).get(url).json() == {"ok": True}
    assert slept == [1]


class RawServer:
    """A TCP server on 127.0.0.1 whose every connection is handled by `handle(conn, stop)`:
    headers trickled a byte at a time, a connection accepted and never answered, ..."""

    def __init__(self, handle) -> None:
        import socket

        self.stop = threading.Event()
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/x"
        self._handle = handle

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn) -> None:
        with contextlib.suppress(OSError), conn:
            conn.recv(65536)
            self._handle(conn, self.stop)

    def __enter__(self) -> RawServer:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.sock.close()


def _elapsed(fn) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        fn()
    except BaseException as exc:
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


def test_trickled_headers_are_cut_at_the_deadline() -> None:
    # The status line and then one header byte every 0.2 s, for ever: no read ever waits the
    # 1 s read timeout, so only the deadline can end it.
    def headers_forever(conn, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.wait(0.2):
            conn.sendall(b"X")

    with RawServer(headers_forever) as srv:
        session = make_session(timeout=1, deadline=1.2, sleep=lambda s: None)
        elapsed, exc = _elapsed(lambda: session.get(srv.url))
    assert isinstance(exc, DeadlineExceeded), exc
    assert 1.1 <= elapsed < 2.0
    assert srv.connections == 1


def test_a_server_that_accepts_and_never_answers_is_cut_at_the_deadline() -> None:
    def silent(conn, stop: threading.Event) -> None:
        stop.wait(10)

    with RawServer(silent) as srv:
        session = make_session(timeout=5, deadline=0.8, sleep=lambda s: None)
        elapsed, exc = _elapsed(lambda: session.get(srv.url))
    assert isinstance(exc, DeadlineExceeded), exc
    assert 0.7 <= elapsed < 1.5


def test_a_redirect_chain_shares_one_deadline(server: ScriptedServer) -> None:
    # Each hop answers in 0.3 s (well inside the 1 s read timeout and the 1 s deadline);
    # five hops take 1.5 s, so the chain fails at the deadline instead of restarting it.
    def slow_redirect(conn, stop: threading.Event) -> None:
        stop.wait(0.3)
        conn.sendall(
            b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )

    with RawServer(slow_redirect) as srv:
        session = make_session(timeout=1, deadline=1.0, sleep=lambda s: None)
        elapsed, exc = _elapsed(lambda: session.get(srv.url))
    assert isinstance(exc, DeadlineExceeded), exc
    assert 0.9 <= elapsed < 1.6
    assert 3 <= srv.connections <= 4  # hops 1-3 answered, the 4th was cut


def test_slow_5xx_retries_share_the_deadline() -> None:
    # Each attempt gets a 503 after 0.3 s and is retried at once: six attempts would take
    # 1.8 s; the fourth is cut at the 1 s deadline, however many retries are left.
    def slow_503(conn, stop: threading.Event) -> None:
        stop.wait(0.3)
        conn.sendall(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )

    with RawServer(slow_503) as srv:
        session = make_session(retries=5, backoff=0, timeout=1, deadline=1.0)
        elapsed, exc = _elapsed(lambda: session.get(srv.url))
    assert isinstance(exc, DeadlineExceeded), exc
    assert 0.9 <= elapsed < 1.5
    assert 3 <= srv.connections <= 4  # the 4th, if started in time, was cut


def test_connect_retries_and_backoff_stay_within_the_deadline() -> None:
    # A refused port: each connect fails at once and is retried after 0, 0.6, 1.2, 2.4 s of
    # backoff (4.2 s in all); with a 1 s deadline the 1.2 s wait is never started.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connections are refused
        session = make_session(retries=4, backoff=0.3, deadline=1.0)
        elapsed, exc = _elapsed(lambda: session.get(f"http://127.0.0.1:{port}/x"))
    assert isinstance(exc, DeadlineExceeded), exc
    assert "would pass it" in str(exc)
    assert elapsed < 1.2


def test_a_blackholed_connect_is_cut_at_the_deadline_however_many_retries() -> None:
    # A listening socket that never accepts, its backlog filled: the kernel drops further
    # SYNs, so connects hang (a blackholed host). 4 connect attempts x 1 s timeout would be
    # 4 s; the 1.2 s deadline clamps the attempts and stops the retries.
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):  # fill the accept queue (its size is backlog + 1 on Linux)
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError, OSError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.05)
        probe = socket.socket()
        probe.settimeout(0.2)
        try:
            probe.connect(("127.0.0.1", port))
            pytest.skip("this kernel accepts beyond the backlog; no blackhole to test with")
        except TimeoutError:
            pass
        finally:
            probe.close()
        session = make_session(retries=3, backoff=0, timeout=1, deadline=1.2)
        elapsed, exc = _elapsed(lambda: session.get(f"http://127.0.0.1:{port}/x"))
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    assert isinstance(exc, DeadlineExceeded), exc
    assert 1.1 <= elapsed < 1.8


def test_every_outbound_call_goes_through_the_one_session() -> None:
    """No module reaches the network around qunex.http (so none escapes the size cap and the
    deadline): no bare requests/urllib/http.client/httpx calls, and feedparser only ever
    parses bytes the session fetched, never a URL."""
    import inspect
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    apps = ["qunex", "markets", "portfolios", "backtests", "insights", "accounts"]
    forbidden = re.compile(
        r"requests\.(get|post|put|delete|head|request)\(|urllib\.request|urlopen\(|"
        r"http\.client|httpx\.|aiohttp|requests\.Session\("
    )
    # Claude's SDK speaks httpx2: only through claude.py's BoundedHttpClient (its deadline
    # and size cap), so no other module builds an httpx2 client or an Anthropic client.
    sdk = re.compile(
        r"httpx2\.(get|post|put|delete|request|stream|Client|AsyncClient)\b|Anthropic\("
    )
    # Not outbound: `make run`'s readiness poll of Qunex's own local server (no body is read,
    # each try has a 2 s timeout and the poll a --wait bound).
    allowed = {"qunex/management/commands/refresh_keyless.py"}
    offenders = []
    for app in apps:
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            if str(path.relative_to(root)) in allowed:
                continue
            source = path.read_text()
            for n, line in enumerate(source.splitlines(), 1):
                code = line.split("#", 1)[0]
                if forbidden.search(code) and path.name != "http.py":
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
                if sdk.search(code) and path.name != "claude.py":
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
                if "feedparser.parse(" in code and ".content" not in code:
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert offenders == []
    from insights.news.analysis import claude

    assert "http_client" in inspect.getsource(claude.anthropic_client)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_a_tls_server_trickling_its_headers_is_cut_at_the_deadline(tmp_path) -> None:
    # Over HTTPS the watchdog must shut the TLS socket (the plain one is detached by the wrap).
    import datetime as dt
    import ssl

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    def headers_forever(conn, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.wait(0.2):
            conn.sendall(b"X")

    class TLSServer(RawServer):
        def _run(self, conn) -> None:
            with contextlib.suppress(OSError):
                conn.settimeout(5)
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    headers_forever(tls, self.stop)

    with TLSServer(headers_forever) as srv:
        session = make_session(timeout=1, deadline=1.2, sleep=lambda s: None)
        url = f"https://127.0.0.1:{srv.port}/x"
        elapsed, exc = _elapsed(lambda: session.get(url, verify=False))
    assert isinstance(exc, DeadlineExceeded), exc
    assert 1.1 <= elapsed < 2.0
