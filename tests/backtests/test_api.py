"""Backtests API: validated create (201 / field errors), my own only, results, strategies."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backtests.models import Backtest
from backtests.strategies import list_strategies
from tests.backtests.factories import BacktestFactory

pytestmark = pytest.mark.django_db

URL = "/api/backtests/"


@pytest.fixture
def api(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def body(**overrides):
    data = {
        "ticker": "SPY",
        "start": "2023-01-02",
        "end": "2023-06-30",
        "strategy": "sma_cross",
        "params": {"fast": 5, "slow": 20},
        "commission": "0.001",
    }
    data.update(overrides)
    return data


def test_anonymous_gets_401(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.post(URL, body(), format="json").status_code == 401
    assert api_client.get(URL + "strategies/").status_code == 401


@pytest.fixture
def queue_only(settings):
    """Inline runs off: every submission waits for the processor."""
    settings.BACKTEST_INLINE_BUDGET_SECONDS = 0


def test_create_returns_201_with_the_queued_job(api, user, spy, queue_only):
    response = api.post(URL, body(stop_loss="0.05"), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    job = Backtest.objects.get()
    assert data["id"] == job.pk and data["status"] == "queued" and data["ticker"] == "SPY"
    assert data["params"] == job.params == {"fast": 5, "slow": 20}
    assert data["commission"] == "0.001000" and data["stop_loss"] == "0.050000"
    assert data["attempts"] == 0 and data["max_attempts"] == 3 and data["return_pct"] is None
    assert data["result_url"] is None and data["close_at_end"] is False
    assert job.owner == user


def test_a_small_job_runs_in_the_request_and_is_recorded_like_a_processed_one(api, user, spy):
    response = api.post(URL, body(close_at_end=True), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    job = Backtest.objects.get()
    assert data["status"] == job.status == "succeeded" and data["error"] == ""
    assert data["result_url"] == f"{URL}{job.pk}/result/"
    assert job.attempts == 1 and job.claimed_by.startswith("inline:")
    assert job.queued_at <= job.started_at <= job.finished_at and job.lease_expires_at is None
    assert len(job.bars_fingerprint) == 64 and job.engine_version == "2.0"
    assert job.close_at_end is True and job.result["config"]["close_at_end"] is True
    result = api.get(data["result_url"]).json()["result"]
    assert result["kind"] == "single" and result["bars"] == 120
    assert data["return_pct"] == pytest.approx(result["stats"]["Return [%]"])


def test_an_inline_failure_fails_the_job_with_its_message_not_a_500(api, spy, test_strategies):
    response = api.post(URL, body(strategy="test_raise", params={"code": 7}), format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "failed" and data["result_url"] is None
    assert data["error"] == "RuntimeError: strategy exploded (code 7)"
    job = Backtest.objects.get()
    assert job.attempts == 1 and job.finished_at is not None and job.result is None


def test_sweeps_over_the_budget_and_walk_forward_are_queued(api, spy, settings):
    settings.BACKTEST_INLINE_BUDGET_SECONDS = 0.1
    # 120 bars: 0.02 + 120 * 5e-6 + 400 * (3e-4 + 120 * 2e-7) = 0.15 s estimated: queued.
    big = {"fast": list(range(2, 22)), "slow": list(range(30, 50))}
    data = api.post(URL, body(sweep=big), format="json").json()
    assert data["status"] == "queued" and data["attempts"] == 0
    # 100 combinations: 0.053 s estimated: inline.
    small = {"fast": list(range(2, 12)), "slow": list(range(30, 40))}
    assert api.post(URL, body(sweep=small), format="json").json()["status"] == "succeeded"
    # Walk-forward is never run in the request, whatever its size.
    settings.BACKTEST_INLINE_BUDGET_SECONDS = 1000
    data = api.post(URL, body(sweep={"fast": [5, 10]}, walk_forward="0.7"), format="json").json()
    assert data["status"] == "queued"


def test_a_small_sweep_runs_inline(api, spy):
    data = api.post(URL, body(sweep={"fast": [5, 10], "slow": [20, 30]}), format="json").json()
    assert data["status"] == "succeeded"
    result = api.get(data["result_url"]).json()["result"]
    assert result["kind"] == "sweep" and len(result["rows"]) == 4


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"ticker": "NOPE"}, ("ticker",)),
        ({"start": "2023-07-01"}, ("start",)),
        ({"start": "July"}, ("start",)),
        ({"strategy": "astrology"}, ("strategy",)),
        ({"params": {"fast": 30, "slow": 20}}, ("params", "fast")),
        ({"params": {"fast": "x"}}, ("params", "fast")),
        ({"params": {"fast": 1}}, ("params", "fast")),
        ({"cash": "-1"}, ("cash",)),
        ({"commission": "0.5"}, ("commission",)),
        ({"sweep": {"fast": [1000]}}, ("sweep", "fast")),
        ({"sweep": {"fast": [5]}, "walk_forward": "0.99"}, ("walk_forward",)),
    ],
)
def test_create_errors_name_the_field_and_queue_nothing(api, spy, overrides, path):
    response = api.post(URL, body(**overrides), format="json")
    assert response.status_code == 400
    errors = response.json()
    for key in path:
        assert key in errors, errors
        errors = errors[key]
    assert isinstance(errors, list) and errors and all(isinstance(m, str) for m in errors)
    assert not Backtest.objects.exists()


def test_create_a_sweep(api, spy):
    response = api.post(
        URL,
        body(params={}, sweep={"fast": [3, 5], "slow": [10, 20]}, walk_forward="0.7"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["sweep"] == {"fast": [3, 5], "slow": [10, 20]}
    assert response.json()["walk_forward"] == "0.700"


def test_list_and_detail_show_only_mine(api, user, other_user, spy):
    mine = BacktestFactory(owner=user, ticker=spy)
    theirs = BacktestFactory(owner=other_user, ticker=spy)
    data = api.get(URL).json()
    assert [r["id"] for r in data["results"]] == [mine.pk]
    assert api.get(f"{URL}{mine.pk}/").status_code == 200
    for suffix in ("", "result/"):
        assert api.get(f"{URL}{theirs.pk}/{suffix}").status_code == 404
    for suffix in ("rerun/", "cancel/"):
        assert api.post(f"{URL}{theirs.pk}/{suffix}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "queued" and Backtest.objects.count() == 2


def test_list_filters_by_status(api, user, spy):
    BacktestFactory(owner=user, ticker=spy)
    done = BacktestFactory(owner=user, ticker=spy, status="succeeded")
    assert [r["id"] for r in api.get(URL, {"status": "succeeded"}).json()["results"]] == [done.pk]


def test_list_query_count_is_flat(api, user, spy):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(URL).status_code == 200
        return len(ctx.captured_queries)

    BacktestFactory(owner=user, ticker=spy)
    one = count()
    BacktestFactory.create_batch(49, owner=user, ticker=spy)
    # COUNT for the pagination, one page of backtests joined to their ticker
    assert count() == one == 2


def test_result_after_processing(api, user, spy, queue_only):
    job_id = api.post(URL, body(), format="json").json()["id"]
    pending = api.get(f"{URL}{job_id}/result/")
    assert pending.status_code == 409 and pending.json()["status"] == "queued"
    call_command("process_backtests", stdout=StringIO(), stderr=StringIO())
    detail = api.get(f"{URL}{job_id}/").json()
    assert detail["status"] == "succeeded" and len(detail["bars_fingerprint"]) == 64
    assert isinstance(detail["return_pct"], float)
    data = api.get(f"{URL}{job_id}/result/").json()
    result = data["result"]
    assert data["bars_fingerprint"] == detail["bars_fingerprint"]
    assert result["kind"] == "single" and result["stats"]["Return [%]"] == pytest.approx(
        detail["return_pct"]
    )
    assert set(result["series"]) == {"dates", "equity", "drawdown", "buy_hold"}
    assert isinstance(result["trades"], list)


def test_rerun_and_cancel(api, user, spy, queue_only):
    job = BacktestFactory(owner=user, ticker=spy, status="failed", error="boom")
    again = api.post(f"{URL}{job.pk}/rerun/")
    assert again.status_code == 201 and again.json()["rerun_of"] == job.pk
    cancelled = api.post(f"{URL}{again.json()['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    twice = api.post(f"{URL}{again.json()['id']}/cancel/")
    assert twice.status_code == 400 and "status" in twice.json()


def test_strategies_lists_the_registry_with_declarations(api):
    data = api.get(URL + "strategies/").json()
    assert [s["name"] for s in data] == [s.name for s in list_strategies()]
    sma = next(s for s in data if s["name"] == "sma_cross")
    fast = next(p for p in sma["params"] if p["name"] == "fast")
    assert fast["type"] == "int"
    spec = next(s for s in list_strategies() if s.name == "sma_cross")
    declared = spec.params[0]
    assert (
        fast["min"] == declared.min
        and fast["max"] == declared.max
        and fast["default"] == declared.default
    )
    assert fast["help"] == declared.help and sma["label"] == spec.label
