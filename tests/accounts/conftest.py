"""Account fixtures: users who already have an authenticator app and recovery codes."""

from __future__ import annotations

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from tests.factories import UserFactory


@pytest.fixture
def totp_user(db):
    """A verified user with an authenticator app and recovery codes; returns (user, secret)."""
    user = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return user, secret


@pytest.fixture
def staff_totp_user(db):
    user = UserFactory(is_staff=True, is_superuser=True)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return user, secret
