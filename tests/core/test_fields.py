"""FastJSONField stores what a JSONField stores, through orjson, on both databases."""

from __future__ import annotations

import math

import pytest

from backtests.models import Backtest
from tests.backtests.factories import BacktestFactory

pytestmark = pytest.mark.django_db


def stored(value):
    job = BacktestFactory(result=value)
    return Backtest.objects.get(pk=job.pk).result


def test_round_trip_keeps_floats_exact_and_nesting():
    value = {
        "series": {"equity": [10_000.0, 10_000.1234, 0.1 + 0.2, 1e-12, -3.5e300]},
        "stats": {"# Trades": 32, "Win Rate [%]": None, "note": "précis \u2212 \U0001f4c8"},
        "trades": [{"size": -7, "open": True}],
    }
    assert stored(value) == value


def test_nan_and_infinity_become_null():
    assert stored({"x": [math.nan, math.inf, -math.inf, 1.0]}) == {"x": [None, None, None, 1.0]}


def test_what_orjson_refuses_takes_djangos_path():
    # Keys that are not strings, and an integer beyond 64 bits: Django's json handles both.
    assert stored({1: "a", "big": 2**70}) == {"1": "a", "big": 2**70}


def test_lookups_into_the_document_still_work():
    BacktestFactory(result={"kind": "single", "stats": {"Return [%]": 12.5}})
    BacktestFactory(result={"kind": "sweep", "stats": {}})
    assert Backtest.objects.filter(result__stats__has_key="Return [%]").count() == 1
    assert list(
        Backtest.objects.filter(result__kind="sweep").values_list("result__kind", flat=True)
    ) == ["sweep"]
