"""Insights tests start with no vendor budget objects: their in-process memos (entitlements
remembered for a minute, call counters) must not carry from one test to the next (the
shared part lives in the cache, which the root conftest clears)."""

from __future__ import annotations

import pytest

from markets import budget


@pytest.fixture(autouse=True)
def _fresh_budgets():
    budget._budgets.clear()
    yield
    budget._budgets.clear()
