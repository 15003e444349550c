from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_api_root_is_public_and_points_to_the_docs(client):
    response = client.get("/api/")
    assert response.status_code == 200
    body = response.json()
    assert body["docs"].endswith("/api/docs/")
    assert body["schema"].endswith("/api/schema/")


def test_openapi_schema_is_served(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Qunex API"
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_docs_page_uses_self_hosted_assets_and_no_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    assert "<script>" not in html


def test_token_is_created_on_the_account_page_and_authenticates_the_api(client, user, api_client):
    client.force_login(user)
    assert client.post("/accounts/profile/token/").status_code == 302
    page = client.get("/accounts/profile/").content.decode()
    token = Token.objects.get(user=user)
    assert token.key in page  # shown once, right after creation
    assert token.key not in client.get("/accounts/profile/").content.decode()

    assert api_client.get("/api/schema/").status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/me/").status_code == 200
    assert api_client.get("/api/me/").json()["email"] == user.email


def test_revoked_token_no_longer_authenticates(client, user, api_client):
    client.force_login(user)
    client.post("/accounts/profile/token/")
    key = Token.objects.get(user=user).key
    client.post("/accounts/profile/token/revoke/")
    assert not Token.objects.filter(user=user).exists()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/me/").status_code == 401


def test_api_requires_authentication_by_default(api_client):
    response = api_client.get("/api/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
