"""The profile page: time zone (stored UTC, shown in the user's zone) and the API token."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from accounts.middleware import BROWSER_COOKIE, SESSION_KEY
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


# --- the browser's zone until one is picked ------------------------------------------------------


def test_a_user_who_never_picked_a_zone_sees_the_browsers(client, user):
    """static/js/tz.js reports the browser's zone in a cookie; the pages follow it until
    the user picks one, and the profile form offers it."""
    client.force_login(user)
    client.cookies[BROWSER_COOKIE] = "Asia/Tokyo"
    with time_machine.travel(NOW, tick=False):
        response = client.get("/accounts/profile/")
    page = response.content.decode()
    assert "Thu 2026-01-15 23:30 JST" in page
    assert 'data-tz-auto="Asia/Tokyo" data-tz-reload' in page
    assert "times follow your browser (Asia/Tokyo)" in page
    assert response.context["form"]["timezone"].value() == "Asia/Tokyo"


def test_a_picked_zone_wins_over_the_browsers_even_when_it_is_utc(client, user):
    client.force_login(user)
    client.cookies[BROWSER_COOKIE] = "Asia/Tokyo"
    client.post("/accounts/profile/", {"timezone": "UTC"})
    assert Profile.objects.get(user=user).timezone_chosen
    with time_machine.travel(NOW, tick=False):
        page = client.get("/accounts/profile/").content.decode()
    assert "Thu 2026-01-15 14:30 UTC" in page and "data-tz-auto" not in page
    # a new session (another device) reads the choice from the profile, not the browser
    client.logout()
    client.force_login(user)
    client.cookies[BROWSER_COOKIE] = "Asia/Tokyo"
    with time_machine.travel(NOW, tick=False):
        page = client.get("/accounts/profile/").content.decode()
    assert "Thu 2026-01-15 14:30 UTC" in page


def test_visitors_follow_the_browsers_zone_without_a_session_write(client):
    client.cookies[BROWSER_COOKIE] = "America/New_York"
    response = client.get("/accounts/login/")
    assert 'data-tz-auto="America/New_York"' in response.content.decode()
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    "cookie",
    [
        "Mars/Olympus_Mons",
        "../../etc/passwd",
        "Europe/London" * 20,
        "Asia/T\u00f6ky\u00f6",
        "²",
        "",
    ],
)
def test_a_hostile_or_unknown_browser_zone_is_ignored(client, user, cookie):
    client.force_login(user)
    client.cookies[BROWSER_COOKIE] = cookie
    with time_machine.travel(NOW, tick=False):
        response = client.get("/accounts/profile/")
    assert response.status_code == 200
    assert "Thu 2026-01-15 14:30 UTC" in response.content.decode()


def test_a_post_result_page_never_asks_the_script_to_reload(client, user):
    client.force_login(user)
    response = client.post("/accounts/profile/", {"timezone": "Mars/Olympus_Mons"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-tz-auto="UTC"' in page and "data-tz-reload" not in page


TZ_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "tz.js"
# Runs static/js/tz.js in node against a minimal page: `attrs` on <html>, a cookie jar
# (off when cookiesOff), sessionStorage shared across runs (the same tab). Prints what happened.
TZ_HARNESS = """
const fs = require("fs");
const src = fs.readFileSync(process.argv[1], "utf8");
const runs = JSON.parse(process.argv[2]);
const storage = {};
const out = [];
for (const run of runs) {
  let jar = "";
  let reloads = 0;
  global.document = {
    documentElement: {
      getAttribute: (n) => (n in run.attrs ? run.attrs[n] : null),
      hasAttribute: (n) => n in run.attrs,
    },
    get cookie() { return jar; },
    set cookie(v) { if (!run.cookiesOff) jar = v.split(";")[0]; },
  };
  global.location = { protocol: "https:", reload: () => { reloads += 1; } };
  global.sessionStorage = {
    getItem: (k) => (k in storage ? storage[k] : null),
    setItem: (k, v) => { storage[k] = String(v); },
  };
  eval(src);
  out.push({ cookie: jar, reloads });
}
process.stdout.write(JSON.stringify(out));
"""


def _run_tz_js(runs: list[dict], zone: str = "Asia/Tokyo") -> list[dict]:
    done = subprocess.run(
        ["node", "-e", TZ_HARNESS, str(TZ_JS), json.dumps(runs)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env={**os.environ, "TZ": zone},
    )
    return json.loads(done.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_tz_script_reports_the_browser_zone_and_reloads_once():
    auto_get = {"attrs": {"data-tz-auto": "UTC", "data-tz-reload": ""}}
    first, again = _run_tz_js([auto_get, auto_get])
    assert first == {"cookie": "qunex_browser_tz=Asia/Tokyo", "reloads": 1}
    assert again["reloads"] == 0, "the same zone never reloads twice in a tab (no loop)"
    (same,) = _run_tz_js([{"attrs": {"data-tz-auto": "Asia/Tokyo", "data-tz-reload": ""}}])
    assert same == {"cookie": "", "reloads": 0}, "already in the browser's zone"
    (picked,) = _run_tz_js([{"attrs": {}}])
    assert picked == {"cookie": "", "reloads": 0}, "a picked zone is left alone"
    (posted,) = _run_tz_js([{"attrs": {"data-tz-auto": "UTC"}}])
    assert posted == {"cookie": "qunex_browser_tz=Asia/Tokyo", "reloads": 0}, "no reload on POST"
    (off,) = _run_tz_js([{**auto_get, "cookiesOff": True}])
    assert off == {"cookie": "", "reloads": 0}, "cookies off: no reload that cannot help"
