"""Turning on 2FA right after logging in does not ask for the password again; after the
reauthentication window (ACCOUNT_REAUTHENTICATION_TIMEOUT) it does."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.accounts.helpers import login

pytestmark = pytest.mark.django_db

ACTIVATE = "/accounts/2fa/totp/activate/"


def test_fresh_login_counts_as_recent_authentication(client, user, settings):
    assert settings.ACCOUNT_REAUTHENTICATION_TIMEOUT == 300
    with time_machine.travel(dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC), tick=False) as clock:
        assert login(client, user.email).status_code == 302
        response = client.get(ACTIVATE)
        assert response.status_code == 200  # the QR code page, no password prompt
        clock.shift(299)
        assert client.get(ACTIVATE).status_code == 200
        clock.shift(2)  # past the window: the password is asked for again
        response = client.get(ACTIVATE)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/reauthenticate/")


def test_a_session_without_a_login_record_is_asked(client, user):
    client.force_login(user)  # no allauth login record in the session
    response = client.get(ACTIVATE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
