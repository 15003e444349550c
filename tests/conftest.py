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


_DEMO_MODELS: dict[tuple, tuple[dict, bool, str]] = {}


@pytest.fixture
def demo_model_once(monkeypatch):
    """`seed_demo` trains its demo model for real the first time in a worker; later seeds of
    the same demo bars (same training end, hyperparameters and closes) store a copy of that
    model instead of fitting the identical one again (~10 s of CPU each). Only the first
    model of a database is memoised (the demo seed's call, or a fixture's through the
    returned function); the stored ModelVersion has every field the real training stores
    (trained_at and promoted_at are now). The training itself is tested in tests/insights
    (scores/test_services.py, test_demo.py), which do not use this."""
    from django.db.models import Count, Max, Sum
    from django.utils import timezone

    from insights.scores import demo as scores_demo
    from insights.scores.models import ModelVersion
    from insights.scores.services import RetrainResult
    from markets.models import DailyBar

    real = scores_demo.model_retrain

    def memoised(*, end=None, symbols=None, params=None, force_promote=False, **kwargs):
        asked = {"end": end, "symbols": symbols, "params": params, "force_promote": force_promote}
        if kwargs or ModelVersion.objects.exists():
            return real(**asked, **kwargs)
        bars = DailyBar.objects.filter(date__lte=end) if end else DailyBar.objects.all()
        stats = bars.aggregate(n=Count("id"), last=Max("date"), total=Sum("close"))
        key = (end, tuple(symbols or ()), repr(params), force_promote, tuple(sorted(stats.items())))
        if key not in _DEMO_MODELS:
            result = real(**asked)
            skip = {"id", "trained_at", "promoted_at"}
            fields = {
                f.attname: getattr(result.version, f.attname)
                for f in ModelVersion._meta.concrete_fields
                if f.attname not in skip
            }
            _DEMO_MODELS[key] = (fields, result.promoted, result.reason)
            return result
        fields, promoted, reason = _DEMO_MODELS[key]
        now = timezone.now()
        version = ModelVersion.objects.create(
            **fields, trained_at=now, promoted_at=now if promoted else None
        )
        return RetrainResult(version=version, promoted=promoted, reason=reason)

    monkeypatch.setattr(scores_demo, "model_retrain", memoised)
    return memoised  # for fixtures that train a demo model themselves (tests/browser)
