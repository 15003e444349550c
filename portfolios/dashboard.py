"""The dashboard's watchlist panel (registered in PortfoliosConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from portfolios import selectors


def watchlist_panel_context(request: HttpRequest) -> dict[str, Any]:
    """The user's first watchlist with quotes: 2 queries signed in, none otherwise."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"watchlist": None, "rows": [], "signed_in": False}
    watchlist, rows = selectors.dashboard_watchlist(user=user)
    return {
        "watchlist": watchlist,
        "rows": rows,
        "signed_in": True,
        "symbols": ",".join(r.info.symbol for r in rows),
    }
