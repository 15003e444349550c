"""Registrations this area makes when Django starts: the stock page's insider section and the
dashboard's recent-buys panel."""

from __future__ import annotations


def register() -> None:
    from insights.insiders import views
    from qunex.dashboard import register_panel, register_stock_panel

    register_stock_panel(
        "insiders",
        template="insights/insiders/_stock_panel.html",
        context=views.stock_panel_context,
        order=30,
    )
    register_panel(
        "insider_buys",
        template="insights/insiders/_dashboard.html",
        context=views.dashboard_panel_context,
        order=60,
    )
