from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


@cache
def timezone_names() -> frozenset[str]:
    """Every IANA zone a user may pick: the 'Region/City' names plus UTC."""
    return frozenset(tz for tz in zoneinfo.available_timezones() if "/" in tz or tz == "UTC")


def validate_timezone(value: str) -> None:
    if value not in timezone_names():
        raise ValidationError(
            "%(value)s is not a known time zone; pick one such as Europe/London or America/New_York.",
            code="invalid_timezone",
            params={"value": value},
        )


class Profile(models.Model):
    """What a user chooses about how Qunex shows them things. Times are stored in UTC.

    The zone list comes from the system's tz database at run time (validator, not `choices`),
    so a tzdata update never changes a migration.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # Set when the user picks a zone on the profile page. Until then (and for visitors)
    # pages follow the browser's zone, which static/js/tz.js reports in a cookie.
    timezone_chosen = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def has_chosen_timezone(self) -> bool:
        """A zone other than the default was certainly picked, whatever the flag says."""
        return self.timezone_chosen or self.timezone != "UTC"
