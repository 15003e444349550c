"""A local fake of the Anthropic Messages API (http.server in a thread on 127.0.0.1).

Each test queues the responses the fake answers with, in order; the real `anthropic` SDK
is pointed at it through ANTHROPIC_BASE_URL. Requests received are kept for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "anthropic"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang: bool = False  # accept the request and never answer (until the fake stops)


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def tool_reply(tool_input: dict[str, Any], *, usage: dict[str, int] | None = None) -> Reply:
    message = fixture("record_analysis_ok.json")
    message["content"][0]["input"] = tool_input
    if usage is not None:
        message["usage"] = usage
    return json_reply(message)


def json_reply(data: dict[str, Any], status: int = 200, **headers: str) -> Reply:
    return Reply(status, json.dumps(data).encode(), {"content-type": "application/json", **headers})


def raw_reply(body: bytes, content_type: str = "application/json") -> Reply:
    """A 200 whose body is whatever the test says: broken JSON, plain text, `{}`."""
    return Reply(200, body, {"content-type": content_type})


def error_reply(status: int, kind: str, message: str, **headers: str) -> Reply:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    # The SDK retries by itself only when told; x-should-retry pins the behaviour per reply.
    return json_reply(body, status, **headers)


class FakeAnthropic:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.default: Reply | None = None
        self.stopped = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                fake.requests.append({"path": self.path, "json": json.loads(raw or b"{}")})
                reply = fake.replies.pop(0) if fake.replies else fake.default
                if reply is None:
                    reply = Reply(500, b'{"type":"error","error":{"type":"api_error"}}')
                if reply.hang:
                    fake.stopped.wait(30)
                    return
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeAnthropic:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()
