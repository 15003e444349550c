"""The economic calendar page and its dashboard panel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from insights.calendar import selectors
from insights.calendar.models import EconomicEvent
from qunex import params

EVENTS_PER_PAGE = 100


class CalendarFilterForm(params.QueryForm):
    range = params.ChoiceParam(choices=list(selectors.RANGES.items()))
    country = forms.RegexField(regex=r"^[A-Za-z]{2}$", required=False, max_length=2)
    importance = forms.TypedChoiceField(
        choices=[("", "Any importance")]
        + [(str(v), f"{label} and above") for v, label in EconomicEvent.Importance.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    page = params.PageParam(initial=1)


@require_GET
@params.query_form(CalendarFilterForm, announce=False)  # the page lists form.errors itself
def calendar_view(request: HttpRequest, query: dict) -> HttpResponse:
    form, values = query.form, query
    range_name = values.get("range") or "upcoming"
    country = (values.get("country") or "").upper()
    window = selectors.range_window(range_name)
    events = selectors.events_list(
        window=window,
        countries=[country] if country else None,
        min_importance=values.get("importance"),
    )
    page = Paginator(events, EVENTS_PER_PAGE).get_page(values["page"])
    context = {
        "form": form,
        "range_name": range_name,
        "ranges": selectors.RANGES,
        "country": country,
        "countries": selectors.country_list(),
        "importance": values.get("importance"),
        "importances": EconomicEvent.Importance.choices,
        "page": page,
        "events": page.object_list,
        "days": by_local_day(page.object_list),
        "filtered": bool(country or values.get("importance")),
    }
    status = 400 if query.problems else 200
    return render(request, "insights/calendar/calendar.html", context, status=status)


def by_local_day(events) -> list[tuple[Any, list[EconomicEvent]]]:
    """[(day, events)] with each day in the active (user's) time zone; an all-day event stays
    on its own calendar date."""
    days: dict[Any, list[EconomicEvent]] = {}
    for event in events:
        day = event.scheduled_at.date() if event.all_day else timezone.localdate(event.scheduled_at)
        days.setdefault(day, []).append(event)
    return list(days.items())


def dashboard_panel_context(request: HttpRequest) -> dict[str, Any]:
    return {"events": selectors.upcoming_events(limit=6, min_importance=2)}
