from __future__ import annotations

from django.apps import AppConfig


class PortfoliosConfig(AppConfig):
    name = "portfolios"

    def ready(self) -> None:
        from portfolios.dashboard import watchlist_panel_context
        from qunex.dashboard import register_panel

        register_panel(
            "watchlist",
            template="portfolios/_dashboard_watchlist.html",
            context=watchlist_panel_context,
            order=10,
        )
