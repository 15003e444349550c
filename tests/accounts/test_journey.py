"""The whole sign-up journey through allauth, as a new trader would walk it.

sign up -> verify email (link from the outbox: signed in at once) -> log out -> log in -> turn on TOTP -> log out ->
log in with password, then an authenticator code.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core import mail

from tests.accounts.helpers import link_from_outbox, login, totp_code

START = dt.datetime(2026, 3, 2, 14, 0, 0, tzinfo=dt.UTC)
PASSWORD = "a long and unusual passphrase 7"
EMAIL = "new.trader@example.com"

pytestmark = pytest.mark.django_db


def _signed_in_email(client) -> str | None:
    response = client.get("/api/me/")
    return response.json()["email"] if response.status_code == 200 else None


def test_sign_up_verify_log_in_enable_totp_and_log_in_with_code(client):
    with time_machine.travel(START, tick=False) as clock:
        # 1. Sign up: the account exists, unverified, and a confirmation email is sent.
        response = client.post(
            "/accounts/signup/", {"email": EMAIL, "password1": PASSWORD, "password2": PASSWORD}
        )
        assert response.status_code == 302
        assert response["Location"] == "/accounts/confirm-email/"
        user = get_user_model().objects.get(email=EMAIL)
        assert not EmailAddress.objects.get(user=user).verified
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == [EMAIL]
        assert mail.outbox[0].subject.startswith("[Qunex] ")

        # 2. Mandatory verification: the password alone does not let an unverified user in.
        assert _signed_in_email(client) is None

        # 3. Verify through the emailed link (GET shows a confirm button, POST confirms).
        link = link_from_outbox(r"/accounts/confirm-email/[^/\s]+/")
        page = client.get(link)
        assert page.status_code == 200
        assert EMAIL in page.content.decode()
        response = client.post(link)
        assert response.status_code == 302
        assert EmailAddress.objects.get(user=user).verified
        # Confirmed in the browser that signed up: signed in, on the dashboard, not a login.
        assert response["Location"] == "/"
        assert _signed_in_email(client) == EMAIL
        client.post("/accounts/logout/")

        # 4. Log in: lands on the dashboard.
        response = login(client, EMAIL, PASSWORD)
        assert response.status_code == 302
        assert response["Location"] == "/"
        assert _signed_in_email(client) == EMAIL

        # 5. Turn on TOTP: the login just now counts as recent authentication, so no
        #    second password prompt (tests/accounts/test_reauthentication.py: later it asks).
        page = client.get("/accounts/2fa/totp/activate/")
        assert page.status_code == 200
        assert 'src="data:image/svg+xml;base64,' in page.content.decode()
        secret = page.context["form"].secret
        wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
        assert wrong.status_code == 200
        assert "code" in wrong.context["form"].errors
        response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
        assert response.status_code == 302
        types = set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
        assert types == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}

        # 6. Log out.
        response = client.post("/accounts/logout/")
        assert response.status_code == 302
        assert _signed_in_email(client) is None

        # 7. A minute later, log in: the password is only the first step ...
        clock.shift(60)
        response = login(client, EMAIL, PASSWORD)
        assert response.status_code == 302
        assert response["Location"] == "/accounts/2fa/authenticate/"
        assert _signed_in_email(client) is None

        # ... a wrong code keeps the door shut, the app's current code opens it.
        wrong = client.post("/accounts/2fa/authenticate/", {"code": "123456"})
        assert wrong.status_code == 200
        assert wrong.context["form"].errors["code"]
        response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
        assert response.status_code == 302
        assert response["Location"] == "/"
        assert _signed_in_email(client) == EMAIL


def test_an_authenticator_code_cannot_be_replayed(client, totp_user):
    user, secret = totp_user
    with time_machine.travel(START, tick=False):
        code = totp_code(secret)
        login(client, user.email)
        assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
        client.post("/accounts/logout/")

        login(client, user.email)
        replay = client.post("/accounts/2fa/authenticate/", {"code": code})
        assert replay.status_code == 200
        assert replay.context["form"].errors["code"]
        assert _signed_in_email(client) is None


def test_unverified_user_gets_a_new_confirmation_email_instead_of_a_session(client):
    from tests.factories import PASSWORD as FACTORY_PASSWORD
    from tests.factories import UserFactory

    user = UserFactory(verified_email=False)
    response = login(client, user.email, FACTORY_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert _signed_in_email(client) is None


def test_sign_up_with_a_taken_email_or_mismatched_passwords_names_the_field(client, user):
    taken = client.post(
        "/accounts/signup/", {"email": user.email, "password1": PASSWORD, "password2": PASSWORD}
    )
    # allauth does not reveal that the address exists: it mails the owner instead.
    assert taken.status_code == 302
    assert get_user_model().objects.filter(email=user.email).count() == 1

    mismatch = client.post(
        "/accounts/signup/",
        {"email": "x@example.com", "password1": PASSWORD, "password2": PASSWORD + "!"},
    )
    assert mismatch.status_code == 200
    assert "password2" in mismatch.context["form"].errors
    assert not get_user_model().objects.filter(email="x@example.com").exists()
