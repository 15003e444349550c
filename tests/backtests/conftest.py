from __future__ import annotations

import pytest

from tests.backtests import strategies_for_tests
from tests.backtests.factories import seed_bars


@pytest.fixture
def test_strategies():
    strategies_for_tests.install()
    yield
    strategies_for_tests.uninstall()


@pytest.fixture
def spy(db):
    """SPY with 120 business days of bars from 2023-01-02."""
    return seed_bars("SPY", 120)
