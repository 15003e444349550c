"""The configured market-data vendors: keys and endpoints from settings, adapters on the
process's one outbound session (qunex.http.shared_session: HTTP_TIMEOUT, retries that honour
Retry-After)."""

from __future__ import annotations

from django.conf import settings

from markets.providers import Provider, build_providers
from qunex.http import shared_session


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
    """The configured vendors, in settings.MARKET_DATA_PROVIDERS order, that have a key, on
    the process's one outbound session (HTTP_TIMEOUT, retries that honour Retry-After)."""
    return build_providers(
        settings.MARKET_DATA_PROVIDERS, vendor_keys(), shared_session(), vendor_base_urls()
    )
