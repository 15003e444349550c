"""Shared test set-up: every test starts with an empty cache and no network beyond loopback.

pytest-socket (see pyproject.toml) makes any connection to a host other than 127.0.0.1,
::1 or localhost fail, so a test can never reach a vendor by accident.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import UserFactory


@pytest.fixture(autouse=True, scope="session")
def _no_feed_refresher_thread():
    """No background quote refresher in tests: they call REFRESHER.tick() themselves."""
    from django.test.utils import override_settings

    with override_settings(MARKET_FEED_REFRESHER=False):
        yield


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def auth_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
