"""Staff promote a model version or roll back to the previously promoted one in the admin."""

from __future__ import annotations

import pytest

from insights.scores.models import ModelVersion
from insights.scores.services import model_promote
from tests.insights.scores.factories import make_version

pytestmark = pytest.mark.django_db

URL = "/admin/insights/modelversion/"


def test_staff_promote_and_roll_back(client, staff_user):
    client.force_login(staff_user)
    first = model_promote(version=make_version())
    second = make_version()
    response = client.post(URL, {"action": "promote", "_selected_action": [second.pk]}, follow=True)
    assert response.status_code == 200
    assert ModelVersion.objects.promoted().get() == second
    client.post(URL, {"action": "roll_back", "_selected_action": [second.pk]}, follow=True)
    assert ModelVersion.objects.promoted().get() == first
    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}{first.pk}/change/").status_code == 200


def test_promote_needs_exactly_one_version(client, staff_user):
    client.force_login(staff_user)
    a, b = make_version(), make_version()
    page = client.post(URL, {"action": "promote", "_selected_action": [a.pk, b.pk]}, follow=True)
    assert "exactly one" in page.content.decode()
    assert not ModelVersion.objects.promoted().exists()


def test_roll_back_without_history_says_so(client, staff_user):
    client.force_login(staff_user)
    only = model_promote(version=make_version())
    page = client.post(URL, {"action": "roll_back", "_selected_action": [only.pk]}, follow=True)
    assert "No earlier promoted version" in page.content.decode()
    assert ModelVersion.objects.promoted().get() == only


def test_non_staff_cannot_reach_the_admin(client, user):
    client.force_login(user)
    assert client.get(URL).status_code in (302, 403)
