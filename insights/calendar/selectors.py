"""Reads of the economic calendar that the page, the dashboard panel and the API share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from insights.calendar.models import EconomicEvent

RANGES = {
    "upcoming": "Upcoming",
    "today": "Today",
    "week": "This week",
    "past": "Past",
}


@dataclass(frozen=True)
class Window:
    start: datetime | None
    end: datetime | None
    newest_first: bool = False


def range_window(name: str, *, now: datetime | None = None) -> Window:
    """The time window of a named range, in the active (user's) time zone: today and this
    week (Monday to Sunday) are the user's local days."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if name == "today":
        return Window(midnight, midnight + timedelta(days=1))
    if name == "week":
        monday = midnight - timedelta(days=midnight.weekday())
        return Window(monday, monday + timedelta(days=7))
    if name == "past":
        return Window(None, now, newest_first=True)
    return Window(now, None)


def events_list(
    *,
    window: Window,
    countries: list[str] | None = None,
    min_importance: int | None = None,
) -> QuerySet[EconomicEvent]:
    qs = EconomicEvent.objects.all()
    if window.start is not None:
        qs = qs.filter(scheduled_at__gte=window.start)
    if window.end is not None:
        qs = qs.filter(scheduled_at__lt=window.end)
    if countries:
        qs = qs.filter(country__in=countries)
    if min_importance:
        qs = qs.filter(importance__gte=min_importance)
    order = ("-scheduled_at", "name") if window.newest_first else ("scheduled_at", "name")
    return qs.order_by(*order)


def country_list() -> list[str]:
    return list(
        EconomicEvent.objects.order_by("country").values_list("country", flat=True).distinct()
    )


def upcoming_events(*, limit: int = 6, min_importance: int = 2) -> list[EconomicEvent]:
    return list(events_list(window=range_window("upcoming"), min_importance=min_importance)[:limit])
