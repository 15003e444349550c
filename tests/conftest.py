"""Shared test set-up: every test starts with an empty cache and no network beyond loopback.

pytest-socket (see pyproject.toml) makes any connection to a host other than 127.0.0.1,
::1 or localhost fail, so a test can never reach a vendor by accident.
"""

from __future__ import annotations

import hashlib
import os
import pickle

import pytest
from django.core.cache import cache

from tests.factories import UserFactory
from tests.snapshots import file_lock


@pytest.fixture(autouse=True, scope="session")
def _no_feed_refresher_thread():
    """No background quote refresher in tests: they call REFRESHER.tick() themselves."""
    from django.test.utils import override_settings

    with override_settings(MARKET_FEED_REFRESHER=False):
        yield


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Django's recommended test speed-up: PBKDF2's 1,000,000 rounds cost 0.2 s of CPU for
    every user a test creates or signs in, minutes of CPU over the suite. The deployed
    settings keep Django's slow default (tests/accounts/test_security.py checks it)."""
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_budgets():
    """No vendor budget objects carry over: their in-process memos (entitlements remembered
    for a minute, call counters) start empty each test; the shared part lives in the cache,
    cleared above."""
    from markets import budget

    budget._budgets.clear()
    yield
    budget._budgets.clear()


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


@pytest.fixture(scope="session")
def run_shared_dir(tmp_path_factory):
    """A folder every xdist worker of this run shares (each run gets a new one)."""
    base = tmp_path_factory.getbasetemp()  # an xdist worker's is inside the run's folder
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture
def demo_model_once(monkeypatch, run_shared_dir):
    """`seed_demo` trains its demo model for real once per test run; later seeds of the same
    demo bars (same training end, hyperparameters and closes), in any worker, store a copy
    of that model instead of fitting the identical one again (~10 s of CPU each). The first
    worker to need it trains it while holding a file lock; the others wait and read it. Only
    the first model of a database is memoised (the demo seed's call, or a fixture's through
    the returned function); the stored ModelVersion has every field the real training stores
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
        path = (
            run_shared_dir / f"demo-model-{hashlib.sha256(repr(key).encode()).hexdigest()}.pickle"
        )
        with file_lock(run_shared_dir / "demo-model.lock"):
            if not path.exists():
                result = real(**asked)
                skip = {"id", "trained_at", "promoted_at"}
                fields = {
                    f.attname: getattr(result.version, f.attname)
                    for f in ModelVersion._meta.concrete_fields
                    if f.attname not in skip
                }
                path.write_bytes(pickle.dumps((fields, result.promoted, result.reason)))
                return result
            # Written above by a worker of this same run, in its own temp folder.
            fields, promoted, reason = pickle.loads(path.read_bytes())  # noqa: S301
        now = timezone.now()
        version = ModelVersion.objects.create(
            **fields, trained_at=now, promoted_at=now if promoted else None
        )
        return RetrainResult(version=version, promoted=promoted, reason=reason)

    monkeypatch.setattr(scores_demo, "model_retrain", memoised)
    return memoised  # for fixtures that train a demo model themselves (tests/browser)
