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
from markets.models import DailyBar, Ticker
from tests.insights.scores.factories import make_version, seed_market

pytestmark = pytest.mark.django_db

FAST = Hyperparameters(min_train=120, test_size=40)


@pytest.fixture
def market(db):
    return seed_market(n_tickers=24, n_days=420, seed=8)


@pytest.fixture
def signal_market(db):
    """A universe with a planted continuation the model can learn (momentum misses it)."""
    return seed_market(n_tickers=30, n_days=600, seed=8, signal=0.004, fixed_drift=0.0)


def test_a_model_that_beats_the_baseline_is_promoted_and_records_its_data(signal_market):
    _, close = signal_market
    result = services.model_retrain(params=FAST)
    v = result.version
    assert result.promoted and v.promoted and v.promoted_at, v.note
    assert v.note.startswith("promoted: rank IC") and "momentum baseline" in v.note
    assert v.tickers == 30 and not v.is_demo
    assert v.data_start == close.index[0].date()
    assert v.data_end == close.index[-21].date()  # the last label needs 20 sessions after it
    assert v.last_bar == close.index[-1].date()
    assert len(v.fingerprint) == 64 and v.features[0] == "ret_5"
    c = v.comparison
    assert (c["test_start"], c["test_end"]) == (v.test_start, v.test_end)
    assert (
        c["sample_days"] == v.metrics["independent_days"] == v.baseline_metrics["independent_days"]
    )
    assert c["vs_baseline"]["tstat"] >= 2 and c["incumbent"] is None
    again = services.model_retrain(params=FAST)
    assert again.version.fingerprint == v.fingerprint
    assert again.version.artifact == v.artifact  # same data, same seed: same model
    # A refit of the same method ties with the incumbent by construction: the baseline decides.
    assert again.promoted and "same method" in again.version.comparison["incumbent_note"]


def test_on_a_noise_universe_nothing_is_promoted_and_pages_say_so(db, client, capsys):
    """Promotion through the weekly command: pure random walks, no model good enough."""
    seed_market(n_tickers=30, n_days=600, seed=5, fixed_drift=0.0)
    call_command("retrain_model")
    out = capsys.readouterr().out
    assert "not promoted" in out
    assert not ModelVersion.objects.promoted().exists()
    call_command("update_ai_scores")  # not a failure: nothing is published
    assert "No model is good enough yet" in capsys.readouterr().out
    assert AIScore.objects.count() == 0
    page = client.get("/ai-scores/")
    assert page.status_code == 200 and "No model is good enough yet" in page.content.decode()
    card = client.get(f"/ai-scores/models/{ModelVersion.objects.get().pk}/").content.decode()
    assert "Not promoted" in card and "Promoted, scoring" not in card


def test_an_incumbent_with_another_method_is_rerun_on_the_candidates_folds(signal_market):
    params = FAST
    old = services.model_retrain(
        params=Hyperparameters(min_train=120, test_size=40, ridge_lambda=5.0)
    )
    assert old.promoted, old.reason
    result = services.model_retrain(params=params)
    c = result.version.comparison
    assert c["incumbent"] == old.version.pk and c["vs_incumbent"] is not None
    assert c["incumbent_metrics"]["independent_days"] == c["sample_days"]
    assert "re-run on these folds" in c["incumbent_note"]
    # Whatever the verdict, it names the incumbent's comparison on the same days.
    assert result.promoted == (
        c["vs_incumbent"]["ic_gain"] >= 0.005 and c["vs_incumbent"]["tstat"] >= 2
    )


def test_a_worse_candidate_is_not_promoted(signal_market, settings):
    settings.AI_SCORE_PROMOTION_MARGIN = 5.0  # impossible to beat the baseline by
    result = services.model_retrain(params=FAST)
    assert not result.promoted and "needs 5" in result.version.note
    assert not ModelVersion.objects.promoted().exists()


def test_staff_can_roll_back(signal_market):
    old = make_version(promoted=True)
    services.model_promote(version=old)
    result = services.model_retrain(params=FAST, force_promote=True)
    assert result.promoted
    assert ModelVersion.objects.promoted().get() == result.version
    assert services.model_rollback() == old
    assert ModelVersion.objects.promoted().get() == old


def test_force_promote_overrides_the_rule(market):
    result = services.model_retrain(params=FAST, force_promote=True)
    assert result.promoted and result.reason.startswith("forced")


def test_the_demo_model_retires_once_real_bars_replace_the_demo_bars(db, capsys):
    seed_market(n_tickers=12, n_days=420, seed=2, demo=True)
    demo = services.model_retrain(params=FAST, force_promote=True).version
    assert demo.is_demo and demo.promoted
    # Real bars replace the demo bars (what import_prices does to a demo ticker).
    Ticker.objects.filter(is_demo=True).update(is_demo=False)
    # The demo model never scores real data, even before the next retrain.
    result = services.scores_update()
    assert result.version is None and "retired" in result.reason
    assert AIScore.objects.count() == 0
    demo.refresh_from_db()
    assert not demo.promoted and demo.retired_at is not None
    # The next retrain trains on real data; with noise it is not promoted either.
    services.model_promote(version=demo)
    call_command("retrain_model", "--seed", "7")
    demo.refresh_from_db()
    assert demo.retired_at and not demo.promoted
    real = ModelVersion.objects.exclude(pk=demo.pk).get()
    assert not real.is_demo and "demo model" in real.note and "retired" in real.note


def test_update_is_idempotent_and_contributions_add_up(market):
    _, close = market
    services.model_retrain(params=FAST, force_promote=True)
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
    average = np.mean([s.predicted_excess_return for s in AIScore.objects.all()])
    for s in AIScore.objects.all():
        total = sum(c["contribution"] for c in s.contributions)
        assert total == pytest.approx(s.predicted_excess_return - s.baseline, abs=1e-12)
        assert s.baseline == pytest.approx(average, abs=1e-12)  # the day's average stock
        assert s.label and not {c["feature"] for c in s.contributions} & {"mkt_vol_20"}
        assert {c["feature"] for c in s.market_context} <= {"mkt_vol_20", "mkt_above_sma200"}


def test_a_past_day_is_scored_point_in_time(market):
    _, close = market
    services.model_retrain(params=FAST, force_promote=True)
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
    services.model_retrain(params=FAST, force_promote=True)
    weekend = close.index[-1].date() + timedelta(days=1)
    while weekend.weekday() < 5:
        weekend += timedelta(days=1)
    with pytest.raises(services.ScoreError, match="not a stored session"):
        services.scores_update(day=weekend)


def test_scores_of_an_older_model_are_kept_unless_replaced_by_a_revision(market):
    first = services.model_retrain(params=FAST, force_promote=True).version
    services.scores_update()
    original = {s.pk: (s.score, s.created_at) for s in AIScore.objects.all()}
    newer = services.model_retrain(
        params=FAST.__class__(min_train=120, test_size=40, ridge_lambda=1.0), force_promote=True
    ).version
    kept = services.scores_update()
    assert kept.counts["kept"] == 24
    replaced = services.scores_update(replace=True)
    assert replaced.counts["replaced"] == 24
    # Nothing was overwritten: the first revisions are as stored, the new ones are current.
    assert {
        s.pk: (s.score, s.created_at) for s in AIScore.objects.filter(pk__in=original)
    } == original
    assert set(AIScore.objects.current().values_list("model_version_id", flat=True)) == {newer.pk}
    assert set(AIScore.objects.filter(revision=1).values_list("model_version_id", flat=True)) == {
        first.pk
    }
    assert AIScore.objects.filter(revision=2, is_current=True).count() == 24


def test_demo_data_is_labelled_on_the_model_and_every_score(db):
    seed_market(n_tickers=12, n_days=420, seed=2, demo=True)
    version = services.model_retrain(params=FAST, force_promote=True).version
    assert version.is_demo and "demo data" in str(version)
    services.scores_update()
    assert AIScore.objects.filter(is_demo=False).count() == 0


def test_commands_print_one_summary_line_and_fail_clearly(market, capsys):
    with pytest.raises(CommandError, match="No model trained yet"):
        call_command("update_ai_scores")
    call_command("retrain_model", "--seed", "3", "--force-promote")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("retrain_model: succeeded")
    assert "rank IC" in out[0] and "tested " in out[0]
    call_command("update_ai_scores")
    call_command("update_ai_scores")
    out = capsys.readouterr().out.strip().splitlines()
    assert "created 24" in out[0] and "unchanged 24" in out[1]


def test_retrain_without_data_fails_clearly(db):
    with pytest.raises(CommandError, match="No stocks"):
        call_command("retrain_model")


def test_backfill_command_scores_a_past_session_and_flags_in_sample(market, capsys):
    _, close = market
    services.model_retrain(params=FAST, force_promote=True)
    day = close.index[300].date()
    call_command("update_ai_scores", "--date", day.isoformat())
    out = capsys.readouterr().out
    assert f"created 24; {day}" in out and "in sample" in out
    assert AIScore.objects.filter(date=day).count() == 24
    with pytest.raises(CommandError, match="not a date"):
        call_command("update_ai_scores", "--date", "2024-13-01")


def test_a_demo_history_can_be_stamped_with_its_evening_real_runs_cannot(db):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from insights.scores import selectors

    _, close = seed_market(n_tickers=12, n_days=420, seed=2, demo=True)
    day = close.index[-30].date()
    services.model_retrain(end=day - timedelta(days=1), params=FAST, force_promote=True)
    evening = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo("America/New_York"))
    evening = evening.replace(hour=17)
    services.scores_update(day=day, run_at=evening)
    assert set(AIScore.objects.values_list("created_at", flat=True)) == {evening}
    record = selectors.track_record()
    assert record["count"] == 12 and record["demo"]
    Ticker.objects.update(is_demo=False)
    ModelVersion.objects.update(is_demo=False)
    with pytest.raises(services.ScoreError, match="demo"):
        services.scores_update(day=close.index[-29].date(), run_at=evening)


def _stored_scores() -> list[tuple]:
    fields = [f.name for f in AIScore._meta.concrete_fields if f.name != "id"]
    return sorted(AIScore.objects.values_list(*fields), key=lambda r: (r[1], r[0], r[-1]))


def test_scoring_several_days_at_once_stores_exactly_what_the_per_day_calls_store(db):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    _, close = seed_market(n_tickers=12, n_days=420, seed=2, demo=True)
    days = [d.date() for d in close.index[-6:]]
    services.model_retrain(end=days[0] - timedelta(days=1), params=FAST, force_promote=True)

    def evening(day):
        return datetime.combine(day, time(17), tzinfo=ZoneInfo("America/New_York"))

    weekend = next(d for d in (days[0] + timedelta(n) for n in range(1, 9)) if d.weekday() == 5)
    asked = sorted([*days, weekend])
    one_by_one = []
    for day in asked:
        try:
            one_by_one.append(services.scores_update(day=day, run_at=evening(day)).counts)
        except services.ScoreError as exc:
            one_by_one.append(str(exc))
    expected = _stored_scores()
    assert len(expected) == 12 * len(days)
    AIScore.objects.all().delete()

    results = services.scores_update_days(days=[weekend, *days], run_at_for=evening)
    assert list(results) == asked  # scored in date order, whatever the order asked
    got = [r.counts if isinstance(r, services.UpdateResult) else str(r) for r in results.values()]
    assert got == one_by_one and "not a stored session" in got[asked.index(weekend)]
    # Every stored field (scores, contributions, market context, revision, created_at) is
    # identical: each day is scored from its own window, never from bars after its close.
    assert _stored_scores() == expected
    again = services.scores_update_days(days=days, run_at_for=evening)
    assert {r.counts["unchanged"] for r in again.values()} == {12}
    assert _stored_scores() == expected
