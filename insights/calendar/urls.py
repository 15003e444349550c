from __future__ import annotations

from django.urls import path

from insights.calendar import views

urlpatterns = [
    path("calendar/", views.calendar_view, name="calendar"),
]
