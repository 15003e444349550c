"""Training, promotion, scoring: the rules that keep the stored history honest."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from insights.scores import services
from insights.scores.model import Hyperparameters
from insights.scores.models import AIScore, ModelVersion
from markets.models import DailyBar
from tests.insights.scores.factories import make_version, seed_market

pytestmark = pytest.mark.django_db

FAST = Hyperparameters(min_train=120, test_size=40)


@pytest.fixture
def market(db):
    return seed_market(n_tickers=24, n_days=420, seed=8)


def test_first_model_is_promoted_and_records_its_data(market):
    _, close = market
    result = services.model_retrain(params=FAST)
    v = result.version
    assert result.promoted and v.promoted and v.promoted_at
    assert v.tickers == 24 and not v.is_demo
    assert v.data_start == close.index[0].date()
    assert v.data_end == close.index[-21].date()  # the last label needs 20 sessions after it
    assert len(v.fingerprint) == 64 and v.features[0] == "ret_5"
    assert v.metrics["test_days"] > 0 and "rank_ic_mean" in v.baseline_metrics
    again = services.model_retrain(params=FAST).version
    assert again.fingerprint == v.fingerprint
    assert again.artifact == v.artifact  # same data, same seed: same model


def test_a_worse_candidate_is_not_promoted(market):
    current = make_version(promoted=True, metrics={"rank_ic_mean": 0.99})
    result = services.model_retrain(params=FAST)
    assert not result.promoted
    assert "does not beat" in result.version.note
    current.refresh_from_db()
    assert current.promoted and not result.version.promoted
    assert ModelVersion.objects.promoted().get() == current


def test_a_better_candidate_is_promoted_and_staff_can_roll_back(market):
    old = make_version(promoted=True, metrics={"rank_ic_mean": -0.99})
    services.model_promote(version=old)
    result = services.model_retrain(params=FAST)
    assert result.promoted
    assert ModelVersion.objects.promoted().get() == result.version
    assert services.model_rollback() == old
    assert ModelVersion.objects.promoted().get() == old


def test_force_promote_overrides_the_rule(market):
    make_version(promoted=True, metrics={"rank_ic_mean": 0.99})
    result = services.model_retrain(params=FAST, force_promote=True)
    assert result.promoted and result.reason.startswith("forced")


def test_promotion_rule_compares_out_of_sample_rank_ic():
    current = ModelVersion(pk=3, metrics={"rank_ic_mean": 0.03})
    assert services.should_promote({"rank_ic_mean": 0.031}, current)[0]
    assert not services.should_promote({"rank_ic_mean": 0.03}, current)[0]
    assert not services.should_promote({"rank_ic_mean": None}, current)[0]
    assert services.should_promote({"rank_ic_mean": None}, None)[0]


def test_update_is_idempotent_and_contributions_add_up(market):
    _, close = market
    services.model_retrain(params=FAST)
    first = services.scores_update()
    assert first.day == close.index[-1].date()
    assert first.counts["created"] == 24
    stored = {
        s.ticker_id: (s.pk, s.score, s.predicted_excess_return) for s in AIScore.objects.all()
    }
    second = services.scores_update()
    assert second.counts == {"created": 0, "unchanged": 24, "replaced": 0, "kept": 0}
    assert stored == {
        s.ticker_id: (s.pk, s.score, s.predicted_excess_return) for s in AIScore.objects.all()
    }
    scores = sorted(s.score for s in AIScore.objects.all())
    assert scores[0] == 1 and scores[-1] == 10
    for s in AIScore.objects.all():
        total = sum(c["contribution"] for c in s.contributions)
        assert total == pytest.approx(s.predicted_excess_return - s.baseline, abs=1e-12)
        assert s.label and len(s.contributions) == 17


def test_a_past_day_is_scored_point_in_time(market):
    _, close = market
    services.model_retrain(params=FAST)
    day = close.index[350].date()
    version = ModelVersion.objects.promoted().get()
    before = services.score_day(day=day, version=version)
    # Rewrite every bar after `day`: the score of `day` must not move.
    later = list(DailyBar.objects.filter(date__gt=day))
    rng = np.random.default_rng(1)
    for bar in later:
        bar.adj_close = bar.close = bar.close * Decimal(f"{rng.uniform(0.5, 2):.3f}")
    DailyBar.objects.bulk_update(later, ["close", "adj_close"])
    after = services.score_day(day=day, version=version)
    assert before["score"].tolist() == after["score"].tolist()
    np.testing.assert_array_equal(before["prediction"].to_numpy(), after["prediction"].to_numpy())
    result = services.scores_update(day=day)
    assert result.day == day and result.counts["created"] == 24


def test_a_day_without_bars_is_refused(market):
    _, close = market
    services.model_retrain(params=FAST)
    weekend = close.index[-1].date() + timedelta(days=1)
    while weekend.weekday() < 5:
        weekend += timedelta(days=1)
    with pytest.raises(services.ScoreError, match="not a stored session"):
        services.scores_update(day=weekend)


def test_scores_of_an_older_model_are_kept_unless_replaced(market):
    services.model_retrain(params=FAST)
    services.scores_update()
    newer = services.model_retrain(params=FAST, force_promote=True).version
    kept = services.scores_update()
    assert kept.counts["kept"] == 24
    replaced = services.scores_update(replace=True)
    assert replaced.counts["replaced"] == 24
    assert set(AIScore.objects.values_list("model_version_id", flat=True)) == {newer.pk}


def test_demo_data_is_labelled_on_the_model_and_every_score(db):
    seed_market(n_tickers=12, n_days=420, seed=2, demo=True)
    version = services.model_retrain(params=FAST).version
    assert version.is_demo and "demo data" in str(version)
    services.scores_update()
    assert AIScore.objects.filter(is_demo=False).count() == 0


def test_commands_print_one_summary_line_and_fail_clearly(market, capsys):
    with pytest.raises(CommandError, match="No promoted model"):
        call_command("update_ai_scores")
    call_command("retrain_model", "--seed", "3")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("retrain_model: succeeded")
    assert "rank IC" in out[0]
    call_command("update_ai_scores")
    call_command("update_ai_scores")
    out = capsys.readouterr().out.strip().splitlines()
    assert "created 24" in out[0] and "unchanged 24" in out[1]


def test_retrain_without_data_fails_clearly(db):
    with pytest.raises(CommandError, match="No active stocks"):
        call_command("retrain_model")


def test_backfill_command_scores_a_past_session_and_flags_in_sample(market, capsys):
    _, close = market
    services.model_retrain(params=FAST)
    day = close.index[300].date()
    call_command("update_ai_scores", "--date", day.isoformat())
    out = capsys.readouterr().out
    assert f"created 24; {day}" in out and "in sample" in out
    assert AIScore.objects.filter(date=day).count() == 24
    with pytest.raises(CommandError, match="not a date"):
        call_command("update_ai_scores", "--date", "2024-13-01")
