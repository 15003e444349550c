from django.conf import settings

NAV = [
    ("dashboard", "Dashboard", "/"),
    ("stocks", "Stocks", "/stocks/"),
    ("portfolios", "Portfolios", "/portfolios/"),
    ("watchlists", "Watchlists", "/watchlists/"),
    ("alerts", "Alerts", "/alerts/"),
    ("backtests", "Backtests", "/backtests/"),
    ("news", "News", "/news/"),
    ("calendar", "Calendar", "/calendar/"),
    ("insiders", "Insiders", "/insiders/"),
    ("ai_scores", "AI scores", "/ai-scores/"),
]


def site(request):
    path = request.path
    active = next(
        (key for key, _, url in reversed(NAV) if url != "/" and path.startswith(url)),
        "dashboard" if path == "/" else "",
    )
    return {"NAV": NAV, "NAV_ACTIVE": active, "DEBUG": settings.DEBUG}
