"""Helpers for the market-data adapter tests: a fake vendor mounted on the real session.

`FakeVendor` is a requests transport adapter: the adapters under test go through
`qunex.http.make_session()` (hooks, headers, raise_for_status) and only the wire is fake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from qunex.http import make_session

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(vendor: str, name: str) -> bytes:
    return (FIXTURES / vendor / name).read_bytes()


@dataclass
class Reply:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Route:
    url: str  # scheme://host/path, no query
    params: dict[str, str]  # these query parameters must match
    replies: list[Reply]
    hits: int = 0


class FakeVendor(BaseAdapter):
    """Answers each request from the first matching route; a route's replies are used in
    turn and the last one repeats. An unmatched request is a test failure (HTTP 599)."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: list[Route] = []
        self.requests: list[requests.PreparedRequest] = []

    def add(
        self,
        url: str,
        *replies: Reply | bytes,
        params: dict[str, str] | None = None,
    ) -> Route:
        route = Route(
            url=url,
            params=params or {},
            replies=[r if isinstance(r, Reply) else Reply(r) for r in replies],
        )
        self.routes.append(route)
        return route

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        self.requests.append(request)
        parts = urlsplit(request.url or "")
        base = f"{parts.scheme}://{parts.netloc}{parts.path}"
        query = dict(parse_qsl(parts.query))
        for route in self.routes:
            if route.url == base and all(query.get(k) == v for k, v in route.params.items()):
                reply = route.replies[min(route.hits, len(route.replies) - 1)]
                route.hits += 1
                return _response(request, reply)
        return _response(request, Reply(b"no route for " + base.encode(), status=599))

    def close(self) -> None:
        pass

    def query(self, index: int = -1) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.requests[index].url or "").query))


def _response(request: requests.PreparedRequest, reply: Reply) -> requests.Response:
    response = requests.Response()
    response.status_code = reply.status
    response._content = reply.body
    is_html = reply.body.lstrip().startswith(b"<")
    kind = "text/html; charset=utf-8" if is_html else "application/json; charset=utf-8"
    response.headers = CaseInsensitiveDict({"Content-Type": kind, **reply.headers})
    response.url = request.url or ""
    response.request = request
    response.reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests"}.get(
        reply.status, "Error"
    )
    response.encoding = "utf-8"
    return response


def fake_session(vendor: FakeVendor) -> requests.Session:
    session = make_session(retries=0, sleep=lambda seconds: None)
    session.mount("https://", vendor)
    session.mount("http://", vendor)
    return session
