"""backtest_enqueue checks every input, names the field, and queues nothing on error."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from backtests.models import Backtest
from backtests.services import (
    MAX_ACTIVE_PER_USER,
    backtest_cancel,
    backtest_enqueue,
    backtest_requeue,
    backtest_rerun,
)
from tests.backtests.factories import BacktestFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2024, 6, 3, 12, tzinfo=datetime.UTC)


def valid(**overrides):
    kwargs = {
        "ticker": "spy",
        "start": "2023-01-02",
        "end": "2023-06-30",
        "strategy": "sma_cross",
        "params": {"fast": 5, "slow": 20},
        "cash": "10000",
        "commission": "0.001",
    }
    kwargs.update(overrides)
    return kwargs


def errors_of(user, **overrides) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        backtest_enqueue(user=user, **valid(**overrides))
    assert not Backtest.objects.exists(), "nothing may be queued when validation fails"
    return info.value.message_dict


@time_machine.travel(NOW, tick=False)
def test_enqueue_queues_a_cleaned_job(user, spy):
    job = backtest_enqueue(user=user, **valid(params={"fast": "7"}, stop_loss="0.05"))
    job.refresh_from_db()
    assert job.status == Backtest.Status.QUEUED
    assert job.owner == user and job.ticker == spy
    assert job.start == datetime.date(2023, 1, 2) and job.end == datetime.date(2023, 6, 30)
    # defaults filled in from the registry, strings coerced to the declared type
    assert job.params == {"fast": 7, "slow": 30}
    assert job.commission == Decimal("0.001") and job.stop_loss == Decimal("0.05")
    assert job.queued_at == NOW and job.available_at == NOW
    assert job.attempts == 0 and job.max_attempts == 3 and job.claimed_by == ""


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"ticker": "NOPE"}, "ticker", "Unknown ticker 'NOPE'"),
        ({"ticker": ""}, "ticker", "required"),
        ({"start": "2023-07-01", "end": "2023-06-30"}, "start", "on or before the end"),
        ({"start": "2020-01-01", "end": "2020-12-31"}, "start", "No daily bars between"),
        ({"start": "01/02/2023"}, "start", "YYYY-MM-DD"),
        ({"strategy": "moon_phase"}, "strategy", "Unknown strategy 'moon_phase'"),
        ({"params": {"fast": 1, "slow": 20}}, "params.fast", "between 2 and 400"),
        ({"params": {"fast": 30, "slow": 20}}, "params.fast", "smaller than slow"),
        ({"params": {"fast": 20, "slow": 20}}, "params.fast", "smaller than slow"),
        ({"params": {"fast": 2.5}}, "params.fast", "whole number"),
        ({"params": {"speed": 3}}, "params.speed", "Unknown parameter"),
        ({"cash": "0"}, "cash", "more than 0"),
        ({"cash": "abc"}, "cash", "Must be a number"),
        ({"commission": "0.2"}, "commission", "below 0.1"),
        ({"commission": "-0.001"}, "commission", "at least 0"),
        ({"commission_fixed": "-1"}, "commission_fixed", "positive"),
        ({"spread": "0.5"}, "spread", "below 0.1"),
        ({"stop_loss": "1.5"}, "stop_loss", "below 1"),
        ({"take_profit": "0"}, "take_profit", "above 0"),
        ({"sweep": {"fast": [5, 500]}}, "sweep.fast", "between 2 and 400"),
        ({"sweep": {"speed": [1, 2]}}, "sweep.speed", "Unknown parameter"),
        ({"sweep": {"fast": [40, 50]}, "params": {"slow": 30}}, "sweep", "No combination"),
        ({"sweep": {"fast": [5]}, "params": {"slow": 1}}, "params.slow", "between 3 and 500"),
        ({"sweep": {"fast": []}}, "sweep.fast", "non-empty list"),
        (
            {"sweep": {"fast": list(range(2, 102)), "slow": list(range(3, 103))}},
            "sweep",
            "10000 combinations",
        ),
        ({"walk_forward": "0.7"}, "walk_forward", "needs a parameter sweep"),
        (
            {"walk_forward": "0.95", "sweep": {"fast": [5, 10]}},
            "walk_forward",
            "between 0.5 and 0.9",
        ),
    ],
)
def test_each_bad_input_names_its_field(user, spy, overrides, field, fragment):
    errors = errors_of(user, **overrides)
    assert field in errors, errors
    assert any(fragment in m for m in errors[field]), errors[field]


def test_no_bars_message_says_what_is_stored(user, spy):
    errors = errors_of(user, start="2020-01-01", end="2020-12-31")
    assert "SPY has daily bars from 2023-01-02 to" in errors["start"][0]


def test_several_errors_at_once(user, spy):
    errors = errors_of(user, ticker="NOPE", cash="-5", params={"fast": 50, "slow": 10})
    assert {"ticker", "cash", "params.fast"} <= set(errors)


def test_sweep_grid_is_cleaned_and_sorted(user, spy):
    job = backtest_enqueue(
        user=user, **valid(sweep={"fast": ["10", 5, 5.0], "slow": [30, 20]}, walk_forward="0.7")
    )
    assert job.sweep == {"fast": [5, 10], "slow": [20, 30]}
    assert job.walk_forward == Decimal("0.7")


def test_sweep_ignores_the_fixed_value_of_a_swept_parameter(user, spy):
    """fast=50 would break fast < slow, but fast is swept: only the grid's values count."""
    job = backtest_enqueue(
        user=user, **valid(params={"fast": 50, "slow": 30}, sweep={"fast": [5, 10, 40]})
    )
    assert job.params == {"slow": 30}
    assert job.sweep == {"fast": [5, 10, 40]}


def test_a_user_cannot_flood_the_queue(user, spy):
    BacktestFactory.create_batch(MAX_ACTIVE_PER_USER, owner=user, ticker=spy)
    with pytest.raises(ValidationError) as info:
        backtest_enqueue(user=user, **valid())
    assert NON_FIELD_ERRORS in info.value.message_dict
    assert Backtest.objects.count() == MAX_ACTIVE_PER_USER


def test_rerun_copies_the_inputs_into_a_new_job(user, spy, settings):
    settings.BACKTEST_INLINE_BUDGET_SECONDS = 0
    first = backtest_enqueue(user=user, **valid(long_short=True, spread="0.0005"))
    Backtest.objects.filter(pk=first.pk).update(status="succeeded", result={"stats": {}})
    again = backtest_rerun(backtest=first, user=user)
    assert again.pk != first.pk and again.rerun_of == first
    assert again.status == Backtest.Status.QUEUED and again.result is None
    for field in (
        "ticker",
        "start",
        "end",
        "strategy",
        "params",
        "cash",
        "commission",
        "spread",
        "long_short",
    ):
        assert getattr(again, field) == getattr(first, field), field


def test_cancel_a_queued_job_and_refuse_a_finished_one(user, spy):
    job = backtest_enqueue(user=user, **valid())
    backtest_cancel(backtest=job)
    assert job.status == Backtest.Status.CANCELLED and job.finished_at is not None
    with pytest.raises(ValidationError) as info:
        backtest_cancel(backtest=job)
    assert "status" in info.value.message_dict


def test_requeue_resets_a_failed_job(user, spy):
    job = BacktestFactory(
        owner=user, ticker=spy, status="failed", attempts=3, error="boom", claimed_by="x:1:y"
    )
    backtest_requeue(backtest=job)
    assert job.status == "queued" and job.attempts == 0 and job.error == "" and job.claimed_by == ""
    with pytest.raises(ValidationError):
        backtest_requeue(backtest=job)  # queued: nothing to requeue


def test_requeue_refuses_a_running_job(user, spy):
    job = BacktestFactory(owner=user, ticker=spy, status="running", attempts=1)
    with pytest.raises(ValidationError):
        backtest_requeue(backtest=job)
    job.refresh_from_db()
    assert job.status == "running" and job.attempts == 1
