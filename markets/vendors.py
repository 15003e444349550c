"""The configured market-data vendors: keys and endpoints from settings, adapters on one
outbound session from qunex.http (HTTP_TIMEOUT), each drawing on its vendor's shared rate
budget (markets.budget)."""

from __future__ import annotations

import threading

from django.conf import settings

from markets.providers import Provider, build_providers
from qunex.http import QunexSession, make_session

_session: tuple[tuple[int, int, int], QunexSession] | None = None
_session_lock = threading.Lock()


def market_session() -> QunexSession:
    """The vendors' session (market data, and the news, calendar and insider adapters of the
    same vendors): qunex.http's, with HTTP_TIMEOUT, HTTP_MAX_BYTES and HTTP_DEADLINE (rebuilt
    if a test changes them), without its own retries, because
    every attempt must be taken from the vendor's shared budget (markets.budget): a 429
    blocks the budget for its Retry-After and the next call waits within the run's time,
    and a 5xx fails over to the next vendor."""
    global _session
    key = (settings.HTTP_TIMEOUT, settings.HTTP_MAX_BYTES, settings.HTTP_DEADLINE)
    if _session is None or _session[0] != key:
        with _session_lock:
            if _session is None or _session[0] != key:
                session = make_session(retries=0, timeout=key[0], max_bytes=key[1], deadline=key[2])
                _session = (key, session)
    return _session[1]


def vendor_keys() -> dict[str, str]:
    return {
        "polygon": settings.POLYGON_API_KEY,
        "finnhub": settings.FINNHUB_API_KEY,
        "alphavantage": settings.ALPHA_VANTAGE_API_KEY,
    }


def vendor_base_urls() -> dict[str, str]:
    return {
        "polygon": settings.POLYGON_BASE_URL,
        "finnhub": settings.FINNHUB_BASE_URL,
        "alphavantage": settings.ALPHA_VANTAGE_BASE_URL,
    }


def market_providers() -> list[Provider]:
    """The configured vendors, in settings.MARKET_DATA_PROVIDERS order, that have a key,
    each drawing on its shared budget (markets.budget), on `market_session()`."""
    return build_providers(
        settings.MARKET_DATA_PROVIDERS,
        vendor_keys(),
        market_session(),
        vendor_base_urls(),
        budgets=True,
    )
