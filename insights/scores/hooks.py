"""Registrations this area makes when Django starts (dashboard and stock-page panels,
strategies): called once from `InsightsConfig.ready()`."""

from __future__ import annotations


def register() -> None:
    from insights.scores import strategy, views
    from qunex.dashboard import register_panel, register_stock_panel

    register_stock_panel(
        "ai_score",
        template="insights/scores/_stock_card.html",
        context=views.stock_panel_context,
        order=10,
    )
    register_panel(
        "ai_scores",
        template="insights/scores/_dashboard.html",
        context=views.dashboard_panel_context,
        order=40,
    )
    strategy.register_strategy()
