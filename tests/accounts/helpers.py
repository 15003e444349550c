"""Helpers for the account tests: TOTP codes computed the way an authenticator app does."""

from __future__ import annotations

import re
import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail

from tests.factories import PASSWORD

TOTP_PERIOD = 30


def totp_code(secret: str, at: float | None = None) -> str:
    """The 6-digit code an authenticator app shows for `secret` at `at` (default: now)."""
    counter = int(at if at is not None else time.time()) // TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def link_from_outbox(pattern: str, index: int = -1) -> str:
    """The first path matching `pattern` in an email that was sent, e.g. a confirmation link."""
    body = mail.outbox[index].body
    match = re.search(pattern, body)
    assert match, f"no link matching {pattern!r} in email {mail.outbox[index].subject!r}:\n{body}"
    return match.group(0)


def login(client, email: str, password: str = PASSWORD, next_url: str | None = None):
    data = {"login": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/accounts/login/", data)
