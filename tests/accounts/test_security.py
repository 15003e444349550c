"""Second factors, rate limits, password reset and change, and the staff admin door."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.core import mail

from tests.accounts.helpers import link_from_outbox, login, totp_code
from tests.factories import PASSWORD

START = dt.datetime(2026, 3, 2, 14, 0, 0, tzinfo=dt.UTC)
NEW_PASSWORD = "another long passphrase 9"

pytestmark = pytest.mark.django_db


def _is_signed_in(client) -> bool:
    return client.get("/api/me/").status_code == 200


# --- Recovery codes ---------------------------------------------------------------------------


def test_a_recovery_code_signs_in_once(client, totp_user):
    user, _ = totp_user
    codes = RecoveryCodes(Authenticator.objects.get(user=user, type="recovery_codes"))
    code = codes.get_unused_codes()[0]
    unused_before = len(codes.get_unused_codes())

    login(client, user.email)
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    assert _is_signed_in(client)
    fresh = RecoveryCodes(Authenticator.objects.get(user=user, type="recovery_codes"))
    assert len(fresh.get_unused_codes()) == unused_before - 1
    assert code not in fresh.get_unused_codes()

    client.post("/accounts/logout/")
    login(client, user.email)
    again = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert again.status_code == 200
    assert again.context["form"].errors["code"]
    assert not _is_signed_in(client)


# --- Rate limit -------------------------------------------------------------------------------


def test_failed_logins_are_rate_limited_in_the_cache(client, user):
    """RATE_LIMIT_LOGIN_FAILED is 5 per 5 minutes: the 6th try is refused, even with the right password."""
    with time_machine.travel(START, tick=False):
        for attempt in range(5):
            response = login(client, user.email, "wrong password")
            assert response.status_code == 200, attempt
            assert "The email address and/or password you specified are not correct." in str(
                response.context["form"].errors
            )

        blocked = login(client, user.email, PASSWORD)
        assert blocked.status_code == 200
        assert "Too many failed login attempts" in blocked.content.decode()
        assert not _is_signed_in(client)


def test_the_login_rate_limit_is_per_account_across_addresses(client, user):
    """The per-key limit holds when each attempt comes from a different IP address."""
    for attempt in range(5):
        client.post(
            "/accounts/login/",
            {"login": user.email, "password": "wrong"},
            REMOTE_ADDR=f"10.0.0.{attempt + 1}",
        )
    blocked = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.99"
    )
    assert "Too many failed login attempts" in blocked.content.decode()
    assert not _is_signed_in(client)


def test_the_rate_limit_window_passes(client, user):
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            login(client, user.email, "wrong password")
        assert "Too many" in login(client, user.email, PASSWORD).content.decode()
        clock.shift(dt.timedelta(minutes=5, seconds=1))
        # allauth keeps the failure timestamps in the cache and drops those older than the
        # window by the clock, so this holds on the local-memory cache and on Redis alike.
        response = login(client, user.email, PASSWORD)
        assert response.status_code == 302
        assert _is_signed_in(client)


# --- Password reset and change ----------------------------------------------------------------


def test_password_reset_through_the_emailed_link(client, user):
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]

    link = link_from_outbox(r"/accounts/password/reset/key/[^/\s]+/")
    response = client.get(link)
    # allauth moves the key into the session and redirects to a key-less URL.
    assert response.status_code == 302
    form_url = response["Location"]
    assert form_url.endswith("-set-password/")
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/key/done/"

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert login(client, user.email, PASSWORD).status_code == 200  # the old one is refused
    assert login(client, user.email, NEW_PASSWORD).status_code == 302

    # The link works once.
    client.post("/accounts/logout/")
    again = client.get(link, follow=True)
    assert "token_fail" in again.context or "invalid" in again.content.decode().lower()


def test_password_reset_for_an_unknown_address_reveals_nothing(client, user):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    # The person who typed the address is told no account uses it; no reset link is sent.
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" not in mail.outbox[0].body


def test_password_change(auth_client, user):
    wrong = auth_client.post(
        "/accounts/password/change/",
        {"oldpassword": "not it", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200
    assert "oldpassword" in wrong.context["form"].errors

    response = auth_client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # Still signed in (ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False), with the new password only.
    assert _is_signed_in(auth_client)
    assert not user.check_password(PASSWORD)


# --- The admin uses the same protected login ---------------------------------------------------


def test_anonymous_admin_visit_goes_to_the_allauth_login(client):
    response = client.get("/admin/", follow=True)
    final_url, status = response.redirect_chain[-1]
    assert status == 302
    assert final_url.startswith("/accounts/login/?next=")
    assert "/admin/" in final_url.replace("%2F", "/")
    assert response.templates[0].name == "account/login.html"


def test_admin_login_url_itself_redirects_to_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_signed_in_non_staff_user_gets_403_from_the_admin(auth_client):
    assert auth_client.get("/admin/", follow=True).status_code == 403


def test_staff_with_totp_must_give_the_code_to_reach_the_admin(client, staff_totp_user):
    user, secret = staff_totp_user
    response = login(client, user.email, next_url="/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    # Without the code the admin still sends the visitor to the login.
    assert client.get("/admin/").status_code == 302

    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Qunex staff panel" in page.content.decode()


def test_admin_login_is_rate_limited_too(client, staff_user):
    for _ in range(5):
        login(client, staff_user.email, "wrong", next_url="/admin/")
    blocked = login(client, staff_user.email, PASSWORD, next_url="/admin/")
    assert "Too many failed login attempts" in blocked.content.decode()
    assert client.get("/admin/").status_code == 302


# --- Password storage -----------------------------------------------------------------------


def test_production_stores_passwords_with_a_slow_hash():
    """The suite swaps in a fast hasher (tests/conftest.py); the deployed settings keep a
    slow, salted one first, so stored passwords resist an offline attack."""
    from django.conf import global_settings

    import qunex.settings as production

    hashers = getattr(production, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)
    assert hashers[0].rsplit(".", 1)[1] in {
        "PBKDF2PasswordHasher",
        "Argon2PasswordHasher",
        "ScryptPasswordHasher",
    }
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    assert PBKDF2PasswordHasher.iterations >= 600_000  # OWASP's floor for PBKDF2-SHA256
