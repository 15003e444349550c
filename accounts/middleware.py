from __future__ import annotations

import zoneinfo

from django.utils import timezone

SESSION_KEY = "qunex_tz"


class UserTimezoneMiddleware:
    """Shows times in the signed-in user's zone; the zone is read once and kept in the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tzname = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            tzname = request.session.get(SESSION_KEY)
            if tzname is None:
                from accounts.models import Profile

                tzname = (
                    Profile.objects.filter(user=user).values_list("timezone", flat=True).first()
                    or "UTC"
                )
                request.session[SESSION_KEY] = tzname
        try:
            timezone.activate(zoneinfo.ZoneInfo(tzname)) if tzname else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
