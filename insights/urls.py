"""Insights pages: each area (news, insider trades, economic calendar, AI scores) owns its
routes in its own `urls.py`; they share the `insights:` namespace."""

from django.urls import include, path

from qunex.pages import EmptyRoomView

app_name = "insights"

urlpatterns = [
    path("", include("insights.news.urls")),
    path("", include("insights.insiders.urls")),
    path("", include("insights.calendar.urls")),
    path("", include("insights.scores.urls")),
    # Placeholders until each area's own urls.py defines the route of the same name.
    path(
        "calendar/",
        EmptyRoomView.as_view(
            title="Economic calendar",
            lead="Upcoming economic releases and earnings, with consensus and actual figures.",
        ),
        name="calendar",
    ),
    path(
        "insiders/",
        EmptyRoomView.as_view(
            title="Insider trades",
            lead="Purchases and sales by company insiders, from SEC Form 4 filings, updated daily.",
        ),
        name="insiders",
    ),
]
