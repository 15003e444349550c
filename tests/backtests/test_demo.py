"""The demo backtests: run at once for the demo user, idempotent, skipped without bars."""

from __future__ import annotations

from io import StringIO

import pytest

from backtests import demo
from backtests.models import Backtest
from tests.backtests.factories import seed_bars

pytestmark = pytest.mark.django_db


def test_seed_runs_a_backtest_and_a_sweep_then_leaves_them_alone(user):
    seed_bars("SPY", 400)
    out = StringIO()
    demo.seed(user=user, stdout=out)
    jobs = list(Backtest.objects.filter(owner=user).order_by("id"))
    assert [j.status for j in jobs] == ["succeeded", "succeeded"], [j.error for j in jobs]
    single, sweep = jobs
    assert single.sweep is None and single.result["stats"]["# Trades"] >= 0
    assert sweep.sweep == {"fast": [5, 10, 20, 30, 50], "slow": [50, 100, 150, 200]}
    assert sweep.result["walk_forward"]["rows"]
    assert "succeeded" in out.getvalue()

    again = StringIO()
    demo.seed(user=user, stdout=again)
    assert Backtest.objects.filter(owner=user).count() == 2
    assert again.getvalue().count("already there") == 2


def test_seed_without_bars_says_so(user):
    out = StringIO()
    demo.seed(user=user, stdout=out)
    assert not Backtest.objects.exists()
    assert "seed markets first" in out.getvalue()
