from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.db import models

TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]


class Profile(models.Model):
    """What a user chooses about how Qunex shows them things. Times are stored in UTC."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="UTC")

    def __str__(self) -> str:
        return f"Profile of {self.user}"
