"""Fixtures for tests/core: the pages and API tests that seed the whole demo reuse its model."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _demo_model_once(demo_model_once):
    """See tests/conftest.py: seed_demo's model is fitted once per worker."""
