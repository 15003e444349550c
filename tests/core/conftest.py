"""Fixtures for tests/core: the pages and API tests that sweep the whole seeded demo."""

from __future__ import annotations

import pytest

from tests.snapshots import seed_demo_database


@pytest.fixture(autouse=True)
def _demo_model_once(demo_model_once):
    """See tests/conftest.py: seed_demo's model is fitted once per run."""


@pytest.fixture
def seeded_demo(db, run_shared_dir):
    """The database as `manage.py seed_demo` leaves it (seeded for real once per run, then
    copied in: tests/snapshots.py), in this test's transaction."""
    seed_demo_database(run_shared_dir)
