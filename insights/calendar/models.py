"""Economic calendar events: official release schedules (BLS, FOMC) and vendor calendars.

An event is identified by its source and the source's own key for it (the iCalendar UID, the
FOMC meeting's dates, a vendor's country + event + reference day), so a refresh updates the
same row when a release time moves and never deletes what it cannot replace.
"""

from __future__ import annotations

from django.db import models

__all__ = ["EconomicEvent"]


class EconomicEventQuerySet(models.QuerySet):
    def upcoming(self, now):
        return self.filter(scheduled_at__gte=now).order_by("scheduled_at", "name")

    def past(self, now):
        return self.filter(scheduled_at__lt=now).order_by("-scheduled_at", "name")


class EconomicEvent(models.Model):
    class Importance(models.IntegerChoices):
        LOW = 1, "Low"
        MEDIUM = 2, "Medium"
        HIGH = 3, "High"

    source = models.CharField(max_length=20, help_text="Adapter that supplied it: bls, fomc…")
    source_key = models.CharField(
        max_length=200, help_text="The source's own identity for the event (e.g. the ICS UID)."
    )
    name = models.CharField(max_length=300)
    country = models.CharField(max_length=2, default="US", db_index=True, help_text="ISO 3166.")
    scheduled_at = models.DateTimeField(db_index=True, help_text="Release time, UTC.")
    all_day = models.BooleanField(
        default=False, help_text="The source gives a date but no time of day."
    )
    importance = models.PositiveSmallIntegerField(
        choices=Importance.choices, default=Importance.LOW, db_index=True
    )
    period = models.CharField(max_length=60, blank=True, help_text="Reference period, if known.")
    actual = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    forecast = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    previous = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    url = models.URLField(max_length=500, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EconomicEventQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_key"], name="economicevent_unique_source_key"
            )
        ]
        indexes = [models.Index(fields=["country", "importance", "scheduled_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.country}, {self.scheduled_at:%Y-%m-%d %H:%M} UTC)"

    @property
    def surprise(self):
        """Actual minus forecast, when both are known."""
        if self.actual is None or self.forecast is None:
            return None
        return self.actual - self.forecast
