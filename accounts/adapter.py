"""allauth adapter: signing in counts as recent authentication for sensitive changes.

allauth asks for the password again before 2FA (and e-mail) changes unless the user
*re*-authenticated within ACCOUNT_REAUTHENTICATION_TIMEOUT; a fresh login does not count by
default, so turning on two-factor right after logging in asked for the password twice in a
minute. Here a login (password, login code or 2FA step) within the same window counts too;
after the window the password is asked for again, as before.
"""

from __future__ import annotations

import time

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records

RECENT_METHODS = frozenset({"password", "code", "mfa"})


def signed_in_recently(request) -> bool:
    """True when the session's user proved who they are within the reauthentication window."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    window = app_settings.REAUTHENTICATION_TIMEOUT
    now = time.time()
    return any(
        record.get("method") in RECENT_METHODS and now - float(record.get("at", 0)) < window
        for record in get_authentication_records(request, user)
    )


class AccountAdapter(DefaultAccountAdapter):
    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        return self.request is None or not signed_in_recently(self.request)
