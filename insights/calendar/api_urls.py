from __future__ import annotations

from django.urls import path

from insights.calendar import api

urlpatterns = [
    path("economic-events/", api.EventListView.as_view(), name="api-economic-events"),
    path("economic-events/<int:pk>/", api.EventDetailView.as_view(), name="api-economic-event"),
]
