from __future__ import annotations

import logging
import sys
import time

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import JsonResponse
from django.urls import reverse
from django.views import defaults
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from qunex.middleware import database_unavailable_response, is_database_outage

logger = logging.getLogger(__name__)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("health: database unreachable: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


_CACHE_CHECK: dict[str, float] = {}  # the cache's server -> when Redis last answered


def _check_cache() -> str:
    """Redis answers a PING (no write), at most once per HEALTH_CACHE_SECONDS per process,
    and not at all while the feed's own commands show it answering: a health probe every
    few seconds must not spend the free tier's commands. A failure is not remembered and a
    degraded cache is checked again, so an outage shows at once."""
    backend = caches["default"]
    if not hasattr(backend, "health_check"):  # local memory: nothing outside the process
        return "ok"
    from markets.feedcache import REDIS_ANSWERED, server_key  # the feed's commands count too

    server, never = server_key(backend), float("-inf")
    answered = max(_CACHE_CHECK.get(server, never), REDIS_ANSWERED.get(server, never))
    fresh = time.monotonic() - answered < settings.HEALTH_CACHE_SECONDS
    if fresh and not getattr(backend, "degraded", False):
        return "ok"
    try:
        backend.health_check()  # Redis itself, not its per-process fallback
    except Exception as exc:
        _CACHE_CHECK.pop(server, None)
        logger.warning("health: cache unreachable: %s", exc)
        return f"error: {type(exc).__name__}"
    _CACHE_CHECK[server] = time.monotonic()
    return "ok"


@never_cache
def health(request):
    """200 when the database and the cache answer, 503 naming the one that does not."""
    checks = {"database": _check_database(), "cache": _check_cache()}
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


def not_found(request, exception=None, *args, **kwargs):
    """handler404: JSON under /api/ (an address no route matches, e.g. /api/alerts/x/), the
    site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception, *args, **kwargs)


def server_error(request, *args, **kwargs):
    """handler500: a database outage raised outside a view (session or auth middleware) is
    a 503 page, like one raised inside a view; anything else is Django's plain 500."""
    exc = sys.exc_info()[1]
    if is_database_outage(exc):
        return database_unavailable_response(request, exc)
    return defaults.server_error(request, *args, **kwargs)


# The API's eleven areas (the same list as SPECTACULAR_SETTINGS["DESCRIPTION"]).
API_SECTIONS = {
    "markets": "tickers",
    "portfolios": "portfolios",
    "watchlists": "watchlists",
    "alerts": "alerts",
    "notifications": "notifications",
    "backtests": "backtests",
    "news": "news",
    "insider_trades": "insider-trades",
    "economic_calendar": "economic-events",
    "ai_scores": "ai-scores",
    "account": "me",
}


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request: Request) -> Response:
    """Where the API starts: its sections, the schema and the interactive docs."""

    def link(name: str) -> str:
        return request.build_absolute_uri(reverse(name))

    return Response(
        {
            "docs": link("api-docs"),
            "schema": link("api-schema"),
            "authentication": "Session, or the header `Authorization: Token <key>`; "
            "create a token at " + link("accounts:profile"),
            "sections": {
                name: request.build_absolute_uri(f"/api/{path}/")
                for name, path in API_SECTIONS.items()
            },
            "site": request.build_absolute_uri("/"),
        }
    )
