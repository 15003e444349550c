from django.urls import path

from qunex.pages import EmptyRoomView

app_name = "insights"

urlpatterns = [
    path(
        "news/",
        EmptyRoomView.as_view(
            title="News",
            lead="Market news with an AI (Claude) analysis of what it means for each ticker.",
            points=("Headlines are fetched hourly once a news vendor key is configured.",),
        ),
        name="news",
    ),
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
