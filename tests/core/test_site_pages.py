"""Site-wide odds and ends a user trips on: the 404 page, /favicon.ico, the API's map."""

from __future__ import annotations

import pytest
from django.conf import settings

from qunex.views import API_SECTIONS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/news/999999/", "/no/such/page/", "/stocks/NOPE/extra/"])
def test_any_404_is_the_sites_own_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    page = response.content.decode()
    assert "<title>Page not found · Qunex</title>" in page
    assert 'href="/stocks/"' in page and "Skip to content" in page  # the site's layout
    assert "The requested resource was not found on this server." not in page


def test_an_unknown_article_for_a_signed_in_user_is_the_sites_404(auth_client):
    response = auth_client.get("/news/424242/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Your portfolios" in response.content.decode()


def test_api_404_stays_json(client):
    response = client.get("/api/no-such-area/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_favicon_ico_is_a_real_icon_served_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00", "an ICO header"
    assert int.from_bytes(body[4:6], "little") >= 2, "16 and 32 px at least"
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}


def test_api_description_names_every_area_and_links_back_to_the_site(client):
    description = settings.SPECTACULAR_SETTINGS["DESCRIPTION"]
    for area in (
        "Markets",
        "Portfolios",
        "Watchlists",
        "Alerts",
        "Notifications",
        "Backtests",
        "News",
        "Insider trades",
        "Economic calendar",
        "AI scores",
        "Account",
    ):
        assert f"**{area}**" in description, area
    assert "eleven areas" in description and len(API_SECTIONS) == 11
    assert "[Back to Qunex](/)" in description
    schema = client.get("/api/schema/?format=json").json()
    assert schema["info"]["description"] == description
    prefixes = {path.split("/")[2] for path in schema["paths"]}
    assert set(API_SECTIONS.values()) <= prefixes


def test_api_root_lists_every_section_and_each_answers(auth_client):
    root = auth_client.get("/api/").json()
    assert set(root["sections"]) == set(API_SECTIONS) and root["site"].endswith("/")
    for name, url in root["sections"].items():
        assert auth_client.get(url).status_code == 200, name
