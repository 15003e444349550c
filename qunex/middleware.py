"""Request guards that keep bad input and a failing database from turning into 500s.

`ControlCharacterGuardMiddleware` (early in MIDDLEWARE, before anything touches the
database): a query string or path holding NUL or another control character is answered 400
naming the parameter. PostgreSQL refuses NUL in text, so such a value would otherwise be a
500 from the first search or filter it reaches; no search needs a control character.

`QueryStringGuardMiddleware` (first of the guards): a request line longer than
settings.REQUEST_LINE_LIMIT is answered 414, and under /api/ a query parameter given more than
once is answered 400 naming it (every documented parameter takes one value: a repeat is
refused, not silently narrowed to its last value). An empty parameter is refused too, except
from the browsable API's own filter form (a browser asking for HTML, which submits every
field, filled or not): there an empty field means "not given" and is dropped before the view
reads the query. Both are stated in the schema
(qunex/schema.py). gunicorn refuses a line over its own `limit_request_line` with a plain-text
414 before Django sees it, so gunicorn.conf.py sets that above REQUEST_LINE_LIMIT.

`DatabaseUnavailableMiddleware` + `qunex.views.server_error` (handler500): when the database
cannot be reached or a statement hits its timeout (settings: DB_CONNECT_TIMEOUT,
DB_STATEMENT_TIMEOUT_MS) the answer is a 503 with Retry-After: a short page for browsers,
JSON for /api/, instead of a 500.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from qunex.context_processors import NAV
from qunex.params import API_REPEATABLE

logger = logging.getLogger(__name__)

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
RETRY_AFTER_SECONDS = 30
DATABASE_DOWN = (OperationalError, InterfaceError)
# Swagger UI's own page loads its start-up script as `/api/docs/?script=`: not an operation.
API_DOCS = "/api/docs/"


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.path == "/health"


def _page(template: str, context: dict, *, status: int) -> HttpResponse:
    """Render without the request: no context processor may touch the session (the
    database may be the thing that is down). The nav is passed explicitly."""
    html = render_to_string(template, {"NAV": NAV, **context})
    return HttpResponse(html, status=status)


def control_character_problem(request: HttpRequest) -> str | None:
    """The first query parameter (or the path) holding a control character, described."""
    if CONTROL.search(request.path):
        return "The address holds a control character."
    raw = request.META.get("QUERY_STRING", "")
    if not raw:
        return None
    for name, value in parse_qsl(raw, keep_blank_values=True, errors="replace"):
        if CONTROL.search(name):
            return "A query parameter name holds a control character."
        if CONTROL.search(value):
            return f"The query parameter '{name[:40]}' holds a control character (e.g. NUL)."
    return None


class ControlCharacterGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = control_character_problem(request)
        if problem is None:
            return self.get_response(request)
        if _wants_json(request):
            name = re.search(r"'([^']*)'", problem)
            field = name.group(1) if name else "query"
            return JsonResponse({field: [problem]}, status=400)
        return _page(
            "qunex/bad_request.html",
            {"message": problem, "path": CONTROL.sub("", request.path) or "/"},
            status=400,
        )


def request_line_length(request: HttpRequest) -> int:
    """Bytes of the HTTP request line: `GET /path?query HTTP/1.1` (gunicorn gives the raw
    target as RAW_URI; elsewhere it is rebuilt, percent-encoded, from the path and query)."""
    target = request.META.get("RAW_URI") or request.get_full_path()
    return len(request.method or "GET") + 1 + len(target) + len(" HTTP/1.1")


def api_query_problem(request: HttpRequest) -> tuple[str, str] | None:
    """(parameter, message) for the first empty or repeated API query parameter."""
    raw = request.META.get("QUERY_STRING", "")
    if not raw:
        return None
    seen: set[str] = set()
    for name, value in parse_qsl(raw, keep_blank_values=True, errors="replace"):
        if value == "":
            return name, "Give a value, or leave the parameter out."
        if name in seen and name not in API_REPEATABLE:
            return name, "Give this parameter once; it takes one value."
        seen.add(name)
    return None


def _browsable_api(request: HttpRequest) -> bool:
    """A browser on the browsable API: it asks for HTML and not for JSON by `format=`."""
    accept = request.META.get("HTTP_ACCEPT", "")
    return "text/html" in accept and "format=json" not in request.META.get("QUERY_STRING", "")


def _drop_empty_parameters(request: HttpRequest) -> None:
    raw = request.META.get("QUERY_STRING", "")
    pairs = parse_qsl(raw, keep_blank_values=True, errors="replace")
    if all(value != "" for _, value in pairs):
        return
    request.META["QUERY_STRING"] = urlencode([(k, v) for k, v in pairs if v != ""])
    request.__dict__.pop("GET", None)  # WSGIRequest.GET is cached from QUERY_STRING


class QueryStringGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.REQUEST_LINE_LIMIT
        if request_line_length(request) > limit:
            message = f"The address is longer than {limit} characters; shorten the query."
            if _wants_json(request):
                return JsonResponse({"detail": message}, status=414)
            return _page("qunex/bad_request.html", {"message": message, "path": "/"}, status=414)
        if request.path.startswith("/api/") and not request.path.startswith(API_DOCS):
            if _browsable_api(request):
                _drop_empty_parameters(request)
            problem = api_query_problem(request)
            if problem is not None:
                return JsonResponse({problem[0][:40] or "query": [problem[1]]}, status=400)
        return self.get_response(request)


def database_unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    logger.error("database unavailable for %s %s: %s", request.method, request.path, exc)
    if _wants_json(request):
        response: HttpResponse = JsonResponse(
            {"detail": "The database is unavailable; try again shortly."}, status=503
        )
    else:
        response = _page("qunex/unavailable.html", {"retry_url": request.path}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def is_database_outage(exc: BaseException | None) -> bool:
    """A connection that failed or timed out, or a statement cancelled by its timeout."""
    if isinstance(exc, DATABASE_DOWN):
        return True
    cause = getattr(exc, "__cause__", None)
    return isinstance(exc, DatabaseError) and "statement timeout" in str(cause or exc)


class DatabaseUnavailableMiddleware:
    """Turns a database outage raised by a view into a 503 (handler500 covers the
    middleware around the views)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if is_database_outage(exc):
            return database_unavailable_response(request, exc)
        return None
