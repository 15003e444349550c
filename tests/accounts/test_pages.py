"""Every allauth and mfa page renders inside the site layout and keeps the strict CSP."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailConfirmationHMAC
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.template import Context, Template
from django.test import RequestFactory

from tests.accounts.helpers import login

pytestmark = pytest.mark.django_db

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def assert_in_site_layout(response, *, title: str) -> None:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert 'class="topbar"' in html, "not inside templates/base.html"
    assert "/static/css/accounts.css" in html
    assert re.search(rf"<title>\s*{re.escape(title)}\s*· Qunex</title>", html), title
    # CSP: no inline styles, and every <script> is either loaded from 'self' or inert JSON.
    assert " style=" not in html
    assert "<style" not in html
    for attrs in SCRIPT_TAG.findall(html):
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
    # Forms use the site's look, not allauth's bare <p> markup.
    if "<form" in html and "auth-form" not in html and "/accounts/profile/" not in html:
        raise AssertionError("an allauth form without the auth-form styling")


ENTRANCE_PAGES = [
    ("/accounts/login/", "Sign In"),
    ("/accounts/signup/", "Signup"),
    ("/accounts/confirm-email/", "Verify Your Email Address"),
    ("/accounts/password/reset/", "Password Reset"),
    ("/accounts/password/reset/done/", "Password Reset"),
    ("/accounts/confirm-email/not-a-key/", "Confirm Email Address"),
]


@pytest.mark.parametrize(("url", "title"), ENTRANCE_PAGES)
def test_entrance_pages_use_the_site_layout(client, url, title):
    response = client.get(url)
    assert_in_site_layout(response, title=title)
    assert 'class="auth-shell"' in response.content.decode()


def test_email_confirmation_page_for_a_real_key(client):
    from tests.factories import UserFactory

    user = UserFactory(verified_email=False)
    key = EmailConfirmationHMAC(user.emailaddress_set.get()).key
    response = client.get(f"/accounts/confirm-email/{key}/")
    assert_in_site_layout(response, title="Confirm Email Address")
    assert user.email in response.content.decode()


MANAGE_PAGES = [
    ("/accounts/email/", "Email Addresses"),
    ("/accounts/password/change/", "Change Password"),
    ("/accounts/logout/", "Sign Out"),
    ("/accounts/2fa/", "Two-Factor Authentication"),
]


@pytest.mark.parametrize(("url", "title"), MANAGE_PAGES)
def test_account_settings_pages_have_the_settings_menu(auth_client, url, title):
    response = auth_client.get(url)
    assert_in_site_layout(response, title=title)
    html = response.content.decode()
    assert 'class="account-nav"' in html
    assert html.count('aria-current="page"') <= 1


def test_reauthenticate_and_totp_activation_pages(auth_client):
    response = auth_client.get("/accounts/reauthenticate/")
    assert_in_site_layout(response, title="Confirm Access")
    auth_client.post("/accounts/reauthenticate/", {"password": "correct horse battery staple 42"})
    response = auth_client.get("/accounts/2fa/totp/activate/")
    assert_in_site_layout(response, title="Activate Authenticator App")
    html = response.content.decode()
    assert re.search(r'<img src="data:image/svg\+xml;base64,[^"]+" class="qr"', html)
    assert 'id="authenticator_secret"' in html


def test_totp_user_pages(client, totp_user):
    user, _ = totp_user
    login(client, user.email)
    response = client.get("/accounts/2fa/authenticate/")
    assert_in_site_layout(response, title="Sign In")
    assert 'name="code"' in response.content.decode()
    # Finish signing in with a recovery code, then see the management pages.
    code = Authenticator.objects.get(user=user, type="recovery_codes").wrap().get_unused_codes()[0]
    client.post("/accounts/2fa/authenticate/", {"code": code})

    index = client.get("/accounts/2fa/")
    assert_in_site_layout(index, title="Two-Factor Authentication")
    assert "Authentication using an authenticator app is active." in index.content.decode()

    client.post("/accounts/reauthenticate/", {"password": "correct horse battery staple 42"})
    codes = client.get("/accounts/2fa/recovery-codes/")
    assert_in_site_layout(codes, title="Recovery Codes")
    html = codes.content.decode()
    assert '<textarea class="mono"' in html
    assert "/static/mfa/js/recovery_codes.js" in html  # allauth's extra_body reaches the page
    for page in ("/accounts/2fa/recovery-codes/generate/", "/accounts/2fa/totp/deactivate/"):
        assert_in_site_layout(client.get(page), title=_title_of(client, page))


def _title_of(client, url: str) -> str:
    html = client.get(url).content.decode()
    return re.search(r"<title>\s*(.*?)\s*· Qunex</title>", html, re.S).group(1).strip()


def test_the_profile_page_has_the_settings_menu_with_itself_marked(auth_client):
    html = auth_client.get("/accounts/profile/").content.decode()
    assert '<a href="/accounts/profile/" aria-current="page">' in html
    assert " style=" not in html
    assert '<script src="/static/js/accounts/profile.js" defer></script>' in html


def test_account_nav_marks_mfa_sub_pages(user):
    request = RequestFactory().get("/accounts/2fa/totp/activate/")
    html = Template("{% load accounts_tags %}{% account_nav %}").render(
        Context({"request": request})
    )
    assert '<a href="/accounts/2fa/" aria-current="page">Two-factor authentication</a>' in html
    assert html.count("aria-current") == 1


def test_accounts_migrations_match_the_models():
    call_command("makemigrations", "accounts", "--check", "--dry-run", verbosity=0)
