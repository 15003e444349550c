from __future__ import annotations

from django.apps import AppConfig


class PortfoliosConfig(AppConfig):
    name = "portfolios"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from markets.feedrefresh import watched_source_register
        from portfolios.dashboard import watchlist_panel_context
        from portfolios.selectors import prime_unread_count, watched_symbols
        from qunex.dashboard import register_panel

        # The top bar's unread count is read from the cache: fill it at login, so a page's
        # query count does not depend on whether it is the first page after signing in.
        user_logged_in.connect(prime_unread_count, dispatch_uid="portfolios-unread-count")

        watched_source_register(watched_symbols)  # the feed refreshes watched and held symbols
        register_panel(
            "watchlist",
            template="portfolios/_dashboard_watchlist.html",
            context=watchlist_panel_context,
            order=10,
        )
