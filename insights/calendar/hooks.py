"""Registrations this area makes when Django starts: the dashboard's upcoming-events panel."""

from __future__ import annotations


def register() -> None:
    from insights.calendar import views
    from qunex.dashboard import register_panel

    register_panel(
        "events",
        template="insights/calendar/_dashboard.html",
        context=views.dashboard_panel_context,
        order=50,
    )
