"""AI-score API: latest scores with filters and ordering, history per ticker, model versions;
bad input is a 400 naming the parameter; documented in the OpenAPI schema."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from insights.scores.models import AIScore, ModelVersion
from markets.models import Ticker
from tests.insights.scores.factories import make_scores

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def test_anonymous_gets_401(api_client):
    assert api_client.get("/api/ai-scores/").status_code == 401


def test_latest_scores_filter_and_order(api):
    version = make_scores(20)
    old = Ticker.objects.get(symbol="Q000")
    AIScore.objects.create(
        ticker=old,
        date=date(2024, 2, 1),
        score=10,
        label="Strong buy",
        predicted_excess_return=0.5,
        baseline=0.0,
        contributions=[],
        model_version=version,
    )
    body = api.get("/api/ai-scores/").json()
    assert body["count"] == 20  # only the latest session
    first = body["results"][0]
    assert first["score"] == 10 and first["date"] == "2024-03-01"
    assert first["contributions"][0]["feature"] == "ret_5"
    assert first["model_version"] == version.pk
    filtered = api.get(
        "/api/ai-scores/", {"min_score": 8, "sector": "Energy", "ordering": "symbol"}
    )
    rows = filtered.json()["results"]
    assert rows and all(r["score"] >= 8 and r["sector"] == "Energy" for r in rows)
    assert [r["symbol"] for r in rows] == sorted(r["symbol"] for r in rows)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"min_score": "junk"}, "min_score"),
        ({"min_score": "11"}, "min_score"),
        ({"ordering": "price"}, "ordering"),
        ({"page": ""}, "page"),
        ({"page": "0"}, "page"),
    ],
)
def test_bad_filters_are_400_naming_the_field(api, query, field):
    make_scores(2)
    response = api.get("/api/ai-scores/", query)
    assert response.status_code == 400
    assert field in response.json()


def test_control_characters_are_refused_naming_the_parameter(api):
    make_scores(4)
    response = api.get("/api/ai-scores/", {"sector": "Energy\x00"})
    assert response.status_code == 400 and "sector" in response.json()
    assert api.get("/api/ai-scores/Q0\x0100/history/").status_code == 400


def test_history_per_ticker_newest_first_and_404(api):
    version = make_scores(1)
    t = Ticker.objects.get(symbol="Q000")
    AIScore.objects.create(
        ticker=t,
        date=date(2024, 2, 29),
        score=4,
        label="Sell",
        predicted_excess_return=-0.01,
        baseline=0.0,
        contributions=[],
        model_version=version,
    )
    body = api.get("/api/ai-scores/q000/history/").json()
    assert [r["date"] for r in body["results"]] == ["2024-03-01", "2024-02-29"]
    assert api.get("/api/ai-scores/NOPE/history/").status_code == 404


def test_model_versions_with_metrics(api):
    make_scores(1)
    body = api.get("/api/ai-models/").json()
    v = body["results"][0]
    assert v["promoted"] is True and v["metrics"]["rank_ic_mean"] == 0.02
    assert v["baseline_metrics"]["rank_ic_mean"] == 0.01
    assert "artifact" not in v
    assert api.get(f"/api/ai-models/{v['id']}/").json()["fingerprint"] == "0" * 64
    assert api.get("/api/ai-models/999999/").status_code == 404


def test_latest_scores_query_count_is_constant(api):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/ai-scores/").status_code == 200
        return len(ctx.captured_queries)

    make_scores(1, prefix="A")
    one = count()
    AIScore.objects.all().delete()
    ModelVersion.objects.all().delete()
    make_scores(50, prefix="B")
    assert count() == one


def test_documented_in_the_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert "400" in paths["/api/ai-scores/"]["get"]["responses"]
    assert "404" in paths["/api/ai-scores/{symbol}/history/"]["get"]["responses"]
    assert "/api/ai-models/{id}/" in paths


def test_model_versions_expose_folds_test_window_and_last_bar(api):
    folds = [{"train_end": "2023-01-03", "test_start": "2023-02-01", "test_end": "2023-04-28"}]
    from tests.insights.scores.factories import make_version

    v = make_version(folds=folds, comparison={"sample_days": 3})
    body = api.get(f"/api/ai-models/{v.pk}/").json()
    assert body["folds"] == folds and body["last_bar"] == "2024-01-31"
    assert (body["test_start"], body["test_end"]) == ("2023-02-01", "2023-04-28")
    assert body["comparison"] == {"sample_days": 3}


def test_history_returns_each_days_contributions(api):
    make_scores(1)
    body = api.get("/api/ai-scores/Q000/history/").json()
    point = body["results"][0]
    assert point["contributions"][0]["feature"] == "ret_5"
    assert "baseline" in point and "market_context" in point and point["revision"] == 1
