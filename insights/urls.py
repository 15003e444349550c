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
        "news/",
        EmptyRoomView.as_view(
            title="News",
            lead="Market news with an AI (Claude) analysis of what it means for each ticker.",
            points=("Headlines are fetched hourly once a news vendor key is configured.",),
        ),
        name="news",
    ),
]
