"""The profile page: time zone (stored UTC, shown in the user's zone) and the API token."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from accounts.middleware import SESSION_KEY
from accounts.models import Profile
from accounts.services import api_token_create, profile_update

NOW = dt.datetime(2026, 1, 15, 14, 30, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


def test_profile_needs_a_signed_in_user(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"


def test_the_chosen_zone_changes_how_a_stored_utc_time_renders(auth_client, user):
    with time_machine.travel(NOW, tick=False):
        api_token_create(user=user)
        page = auth_client.get("/accounts/profile/").content.decode()
        assert "2026-01-15 14:30 UTC" in page
        assert 'datetime="2026-01-15T14:30:00+00:00"' in page

        response = auth_client.post("/accounts/profile/", {"timezone": "America/New_York"})
        assert response.status_code == 302
        page = auth_client.get("/accounts/profile/").content.decode()
        assert "2026-01-15 09:30 EST" in page
        assert "Thu 2026-01-15 09:30 EST" in page  # "It is now ..."

        auth_client.post("/accounts/profile/", {"timezone": "Asia/Tokyo"})
        page = auth_client.get("/accounts/profile/").content.decode()
        assert "2026-01-15 23:30 JST" in page

    # The stored value never moved: still 14:30 UTC.
    assert Token.objects.get(user=user).created == NOW
    assert Profile.objects.get(user=user).timezone == "Asia/Tokyo"


def test_an_unknown_zone_is_refused_and_names_the_field(auth_client, user):
    response = auth_client.post("/accounts/profile/", {"timezone": "Mars/Olympus_Mons"})
    assert response.status_code == 400
    assert "timezone" in response.context["form"].errors
    assert "Mars/Olympus_Mons" in response.content.decode()
    assert Profile.objects.get(user=user).timezone == "UTC"


def test_profile_update_service_validates_the_zone(user):
    with pytest.raises(ValidationError) as excinfo:
        profile_update(user=user, timezone="Not/A_Zone")
    assert "timezone" in excinfo.value.message_dict
    # Atomic: not even the default profile was left behind.
    assert not Profile.objects.filter(user=user).exists()
    assert profile_update(user=user, timezone="Europe/Berlin").timezone == "Europe/Berlin"


def test_middleware_reads_the_zone_once_and_keeps_it_in_the_session(client, user):
    Profile.objects.create(user=user, timezone="Australia/Sydney")
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        page = client.get("/accounts/profile/").content.decode()
        assert "Fri 2026-01-16 01:30 AEDT" in page
        assert client.session[SESSION_KEY] == "Australia/Sydney"


def test_middleware_falls_back_to_utc_for_a_zone_the_system_no_longer_knows(client, user):
    Profile.objects.create(user=user, timezone="UTC")
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = "Gone/Away"
    session.save()
    with time_machine.travel(NOW, tick=False):
        page = client.get("/accounts/profile/").content.decode()
    assert "Thu 2026-01-15 14:30 UTC" in page


def test_anonymous_pages_render_in_utc(client):
    # No session write for visitors: the middleware only looks at signed-in users.
    client.get("/accounts/login/")
    assert SESSION_KEY not in client.session


def test_profile_page_query_count(auth_client, user):
    api_token_create(user=user)
    auth_client.get("/accounts/profile/")  # first visit: the middleware caches the zone
    # 1 session, 2 user, 3 profile (get_or_create: found), 4 email address,
    # 5 authenticators, 6 API token.
    with CaptureQueriesContext(connection) as queries:
        response = auth_client.get("/accounts/profile/")
    assert response.status_code == 200
    assert len(queries) == 6, [q["sql"] for q in queries.captured_queries]


# --- API token ---------------------------------------------------------------------------------


def _me(api_client, key: str) -> int:
    return api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_create_show_once_replace_and_revoke_an_api_token(auth_client, user, api_client):
    response = auth_client.post("/accounts/profile/token/")
    assert response.status_code == 302
    key = Token.objects.get(user=user).key

    first = auth_client.get("/accounts/profile/").content.decode()
    assert key in first
    assert "shown only this once" in first
    assert key not in auth_client.get("/accounts/profile/").content.decode()
    assert _me(api_client, key) == 200

    auth_client.post("/accounts/profile/token/")
    new_key = Token.objects.get(user=user).key
    assert new_key != key
    assert _me(api_client, key) == 401
    assert _me(api_client, new_key) == 200

    response = auth_client.post("/accounts/profile/token/revoke/", follow=True)
    assert "API token revoked" in response.content.decode()
    assert not Token.objects.filter(user=user).exists()
    assert _me(api_client, new_key) == 401

    response = auth_client.post("/accounts/profile/token/revoke/", follow=True)
    assert "There was no API token to revoke." in response.content.decode()


def test_token_actions_only_accept_post(auth_client, user):
    assert auth_client.get("/accounts/profile/token/").status_code == 405
    assert auth_client.get("/accounts/profile/token/revoke/").status_code == 405
    assert not Token.objects.filter(user=user).exists()


def test_a_user_only_ever_touches_their_own_token(auth_client, user, other_user):
    theirs = api_token_create(user=other_user)
    auth_client.post("/accounts/profile/token/revoke/")
    auth_client.post("/accounts/profile/token/")
    assert Token.objects.get(user=other_user).key == theirs.key
    assert theirs.key not in auth_client.get("/accounts/profile/").content.decode()
