from __future__ import annotations

import zoneinfo

from django.utils import timezone

SESSION_KEY = "qunex_tz"
# The browser's zone, set by static/js/tz.js for anyone who has not picked one.
BROWSER_COOKIE = "qunex_browser_tz"


def browser_zone(request) -> str | None:
    """The zone the browser reported, if it is one the system knows (anything else in the
    cookie, however long or strange, is ignored)."""
    from accounts.models import timezone_names

    value = request.COOKIES.get(BROWSER_COOKIE, "")
    return value if 0 < len(value) <= 64 and value in timezone_names() else None


class UserTimezoneMiddleware:
    """Shows times in the zone the user picked; until they pick one (and for visitors), in
    the browser's zone, else UTC.

    1. A signed-in user's choice is read once and kept in the session ("" = not chosen).
    2. Without a choice, the browser's zone from the cookie static/js/tz.js sets.
    3. `request.timezone_name` is the zone in use; `request.timezone_auto` says it was not
       chosen (base.html then lets tz.js report the browser's zone).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tzname = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            tzname = request.session.get(SESSION_KEY)
            if tzname is None:
                from accounts.models import Profile

                profile = Profile.objects.filter(user=user).only("timezone", "timezone_chosen")
                profile = profile.first()
                tzname = profile.timezone if profile and profile.has_chosen_timezone else ""
                request.session[SESSION_KEY] = tzname
        request.timezone_auto = not tzname
        if not tzname:
            tzname = browser_zone(request) or "UTC"
        try:
            timezone.activate(zoneinfo.ZoneInfo(tzname))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tzname = "UTC"
            timezone.deactivate()
        request.timezone_name = tzname
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
