"""The first run's staff panel: `make admin` (create_admin) makes a staff user who signs in
without an email step, the Sites framework names SITE_URL's host, and a confirmed email
signs the new user in."""

from __future__ import annotations

import io

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.services import site_sync
from tests.accounts.helpers import link_from_outbox, login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "an unusual admin passphrase 42"


def _create_admin(**kwargs) -> str:
    out = io.StringIO()
    call_command("create_admin", stdout=out, **kwargs)
    return out.getvalue()


def test_create_admin_then_admin_login_reaches_the_admin_without_an_email_step(client):
    out = _create_admin(email="Boss@Example.com", password=PASSWORD)
    assert "created" in out and "/admin/" in out
    user = get_user_model().objects.get(email__iexact="boss@example.com")
    assert user.is_staff and user.is_superuser
    address = EmailAddress.objects.get(user=user)
    assert address.verified and address.primary

    response = login(client, "boss@example.com", PASSWORD, next_url="/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Qunex staff panel" in page.content.decode()
    assert not mail.outbox  # no confirmation email was needed


def test_create_admin_again_promotes_and_changes_nothing_else(db):
    user = UserFactory(verified_email=False)
    out = _create_admin(email=user.email, password=PASSWORD)
    assert "updated" in out
    _create_admin(email=user.email, password=PASSWORD)
    user.refresh_from_db()
    assert user.is_staff and user.check_password(PASSWORD)
    assert get_user_model().objects.count() == 1
    assert list(EmailAddress.objects.filter(user=user).values_list("verified", "primary")) == [
        (True, True)
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": "not an email", "password": PASSWORD}, "email:"),
        ({"email": "a@example.com", "password": "123"}, "password:"),
        ({"password": PASSWORD}, "--email is required"),
        ({"email": "a@example.com"}, "--password is required"),
    ],
)
def test_create_admin_refuses_bad_input_and_writes_nothing(kwargs, message):
    with pytest.raises(CommandError, match=message):
        _create_admin(**kwargs)
    assert not get_user_model().objects.exists()


def test_site_domain_follows_site_url_and_sync_is_idempotent(settings):
    assert site_sync(site_url="https://qunex.example.org", site_id=settings.SITE_ID)
    assert not site_sync(site_url="https://qunex.example.org", site_id=settings.SITE_ID)
    site = Site.objects.get(pk=settings.SITE_ID)
    assert (site.domain, site.name) == ("qunex.example.org", "Qunex")


def test_migrate_names_the_site_from_site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8123"
    call_command("migrate", verbosity=0)
    assert Site.objects.get_current().domain == "127.0.0.1:8123"


def test_confirmation_email_names_the_site_and_confirming_signs_in(client, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    site_sync(site_url=settings.SITE_URL, site_id=settings.SITE_ID)
    password = "a long and unusual passphrase 7"
    client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": password, "password2": password},
    )
    assert "example.com" not in mail.outbox[0].body.replace("new@example.com", "")
    assert "127.0.0.1:8000" in mail.outbox[0].body
    response = client.post(link_from_outbox(r"/accounts/confirm-email/[^/\s]+/"))
    assert response["Location"] == "/"
    assert client.get("/api/me/").json()["email"] == "new@example.com"


def test_confirming_goes_on_to_where_the_user_was_going(client):
    password = "a long and unusual passphrase 7"
    client.post(
        "/accounts/signup/?next=/portfolios/",
        {"email": "next@example.com", "password1": password, "password2": password},
    )
    response = client.post(link_from_outbox(r"/accounts/confirm-email/[^/\s]+/"))
    assert response["Location"] == "/portfolios/"
    assert client.get("/api/me/").json()["email"] == "next@example.com"
