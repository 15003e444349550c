"""The model: deterministic for a seed, exact contributions, walk-forward with its gap,
metrics against hand-computed values, the score mapping."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from insights.scores import explain, labels
from insights.scores import features as F
from insights.scores import model as M
from tests.insights.scores.factories import synthetic_closes

FAST = M.Hyperparameters(min_train=120, test_size=40)


@pytest.fixture(scope="module")
def data():
    close, volume, market = synthetic_closes(n_tickers=25, n_days=520, seed=4)
    X = F.compute_features(close, volume, market=market)
    y = labels.stack(labels.forward_excess_return(close, market)).reindex(X.index)
    return close, X, y


def test_label_is_forward_20_session_excess_return():
    idx = pd.bdate_range("2024-01-01", periods=25)
    close = pd.DataFrame({"A": np.arange(100.0, 125.0)}, index=idx)
    market = pd.Series(np.full(25, 50.0), index=idx)
    market.iloc[20:] = 55.0
    y = labels.forward_excess_return(close, market)
    assert y.loc[idx[0], "A"] == pytest.approx(120 / 100 - 1 - (55 / 50 - 1))
    assert y.loc[idx[4], "A"] == pytest.approx(124 / 104 - 1 - 0.1)
    assert y.iloc[5:]["A"].isna().all()  # the future is not known yet


def test_training_is_deterministic_for_a_seed(data):
    _, X, y = data
    params = M.Hyperparameters(max_train_rows=2000, seed=11)
    a = M.fit(X, y, params).to_dict()
    b = M.fit(X, y, params).to_dict()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    c = M.fit(X, y, M.Hyperparameters(max_train_rows=2000, seed=12)).to_dict()
    assert c["coefs"] != a["coefs"]  # the seed does pick the sample


def test_contributions_add_up_to_prediction_minus_baseline(data):
    _, X, y = data
    model = M.fit(X, y, FAST)
    rows = X.tail(200).copy()
    rows.iloc[0, :] = np.nan  # a row with every feature missing still adds up
    contrib = model.contributions(rows)
    pred = model.predict(rows)
    np.testing.assert_allclose(contrib.sum(axis=1), pred - model.baseline, rtol=0, atol=1e-12)
    # Explanations are of one day's stocks (market features alike for all of them).
    day = X.xs(X.index.get_level_values("date")[-1], level="date", drop_level=False).copy()
    stock_features = [f for f in day.columns if f not in F.MARKET_FEATURES]
    day.iloc[0, [day.columns.get_loc(f) for f in stock_features]] = np.nan
    explained = explain.explain_rows(model, day)
    assert explained[0]["baseline"] == pytest.approx(model.predict(day).mean(), abs=1e-15)
    for e in explained:
        total = sum(c["contribution"] for c in e["contributions"])
        assert total == pytest.approx(e["prediction"] - e["baseline"], abs=1e-12)


def test_explanations_are_against_the_days_average_with_the_market_apart(data):
    """ "An average stock" is the day's average forecast; market-wide features (the same for
    every stock that day) are never a stock's reason but the day's market context; zero
    contributions are not listed."""
    _, X, y = data
    model = M.fit(X, y, FAST)
    day = X.index.get_level_values("date")[-1]
    rows = X.xs(day, level="date", drop_level=False)
    explained = explain.explain_rows(model, rows)
    pred = model.predict(rows)
    for e in explained:
        assert e["baseline"] == pytest.approx(pred.mean(), abs=1e-15)
        features = {c["feature"] for c in e["contributions"]}
        assert not features & set(F.MARKET_FEATURES)
        assert all(c["contribution"] != 0.0 for c in e["contributions"])
        assert "percentage points" in e["contributions"][0]["words"]
        total = sum(c["contribution"] for c in e["contributions"])
        assert total == pytest.approx(e["prediction"] - e["baseline"], abs=1e-12)
    context = explained[0]["market_context"]
    assert {c["feature"] for c in context} <= set(F.MARKET_FEATURES)
    assert all(e["market_context"] == context for e in explained)
    # The market context is what moves the day's average away from the training average.
    contrib = model.contributions(rows)
    j = model.features.index("mkt_vol_20")
    by_feature = {c["feature"]: c["contribution"] for c in context}
    assert by_feature.get("mkt_vol_20", 0.0) == pytest.approx(contrib[:, j].mean(), abs=1e-15)


def test_walk_forward_ic_on_a_pure_noise_universe_is_not_significant():
    """Deterministic: 80 random-walk stocks (no drift of their own) over 900 sessions. The
    out-of-sample rank IC must look like noise (|t| < 3) and the promotion rule must refuse."""
    close, volume, market = synthetic_closes(
        n_tickers=80, n_days=900, seed=21, fixed_drift=0.0, signal=0.0
    )
    X = F.compute_features(close, volume, market=market)
    y = labels.stack(labels.forward_excess_return(close, market)).reindex(X.index)
    wf = M.walk_forward(X, y, M.Hyperparameters(min_train=252, test_size=63))
    assert wf.model["independent_days"] >= 20
    assert abs(wf.model["rank_ic_tstat"]) < 3
    comparison = {
        "model": wf.model,
        "vs_baseline": M.paired(wf.daily["ic"], wf.daily["base_ic"], wf.sample),
    }
    promote, reason = M.promotion_verdict(comparison, margin=0.005, min_tstat=2.0)
    assert not promote and reason.startswith("not promoted")


def test_mean_ic_and_t_stat_use_the_same_sample_for_model_and_baseline(data):
    _, X, y = data
    wf = M.walk_forward(X, y, FAST)
    assert wf.model["independent_days"] == wf.baseline["independent_days"] == len(wf.sample)
    values = wf.daily["ic"].reindex(wf.sample)
    assert wf.model["rank_ic_mean"] == pytest.approx(values.mean(), abs=1e-6)
    t = values.mean() / (values.std(ddof=1) / math.sqrt(len(values)))
    assert wf.model["rank_ic_tstat"] == pytest.approx(t, abs=1e-5)
    # Consecutive sample days are `gap` test days apart: their labels do not overlap.
    positions = wf.daily.index.get_indexer(wf.sample)
    assert (np.diff(positions) >= FAST.gap).all()


def test_promotion_verdict_needs_margin_and_t_against_baseline_and_incumbent():
    good = {"rank_ic_mean": 0.05, "rank_ic_tstat": 4.0}
    win = {"ic_gain": 0.02, "tstat": 3.0, "days": 30}
    assert M.promotion_verdict({"model": good, "vs_baseline": win}, margin=0.01, min_tstat=2.0)[0]
    small = {"ic_gain": 0.004, "tstat": 3.0, "days": 30}
    noisy = {"ic_gain": 0.02, "tstat": 1.2, "days": 30}
    for vs in (small, noisy):
        assert not M.promotion_verdict(
            {"model": good, "vs_baseline": vs}, margin=0.01, min_tstat=2.0
        )[0]
        ok, reason = M.promotion_verdict(
            {"model": good, "vs_baseline": win, "vs_incumbent": vs, "incumbent": 4},
            margin=0.01,
            min_tstat=2.0,
        )
        assert not ok and "v4" in reason
    weak = {"rank_ic_mean": 0.05, "rank_ic_tstat": 1.0}
    assert not M.promotion_verdict({"model": weak, "vs_baseline": win}, margin=0.01, min_tstat=2.0)[
        0
    ]


def test_artifact_round_trips_through_json_and_rejects_garbage(data):
    _, X, y = data
    model = M.fit(X, y, FAST)
    again = M.ScoreModel.from_dict(json.loads(json.dumps(model.to_dict())))
    rows = X.tail(50)
    np.testing.assert_array_equal(again.predict(rows), model.predict(rows))
    broken = model.to_dict() | {"coefs": model.coefs[:-1]}
    with pytest.raises(ValueError, match="inconsistent"):
        M.ScoreModel.from_dict(broken)


def test_missing_features_are_imputed_not_zeroed():
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame(rng.normal(size=(n, 2)), columns=["a", "b"])
    X.loc[: n // 2, "b"] = np.nan
    y = X["a"] * 0.1
    model = M.fit(X, y, M.Hyperparameters(clip_quantile=0.0, ridge_lambda=0.0))
    median_b = float(np.nanmedian(X["b"]))
    assert model.medians[1] == pytest.approx(median_b)
    assert model.predict(pd.DataFrame({"a": [0.5], "b": [np.nan]}))[0] == pytest.approx(0.05)


def test_walk_forward_leaves_a_20_session_gap(data):
    _, X, y = data
    wf = M.walk_forward(X, y, FAST)
    sessions = pd.Index(np.unique(X.index.get_level_values("date")))
    assert len(wf.folds) >= 3
    for fold in wf.folds:
        train_end = sessions.get_loc(pd.Timestamp(fold["train_end"]))
        test_start = sessions.get_loc(pd.Timestamp(fold["test_start"]))
        assert test_start - train_end == FAST.gap + 1  # 20 sessions strictly between
        # the last training label ends before the first test day
        assert train_end + labels.HORIZON < test_start
    first_test = pd.Timestamp(wf.folds[0]["test_start"])
    assert wf.daily.index.min() == first_test
    for key in ("rank_ic_mean", "rank_ic_tstat", "hit_rate", "decile_spread"):
        assert key in wf.model and key in wf.baseline


def test_walk_forward_needs_enough_history(data):
    _, X, y = data
    with pytest.raises(ValueError, match="labelled sessions"):
        M.walk_forward(X, y, M.Hyperparameters(min_train=1000))


def test_metrics_by_hand():
    dates = np.repeat(np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[ns]"), 10)
    y = np.tile(np.arange(10, dtype=float) / 100, 2)
    perfect = M.daily_metrics(dates, y.copy(), y)
    assert perfect["ic"].tolist() == pytest.approx([1.0, 1.0])
    assert perfect["hit"].tolist() == pytest.approx([1.0, 1.0])
    assert perfect["spread"].tolist() == pytest.approx([0.09, 0.09])  # 0.09 - 0.00
    inverse = M.daily_metrics(dates, -y, y)
    assert inverse["ic"].tolist() == pytest.approx([-1.0, -1.0])
    assert inverse["spread"].tolist() == pytest.approx([-0.09, -0.09])
    daily = pd.DataFrame({"ic": [0.1, 0.3, 0.2, 0.4], "hit": [0.5] * 4, "spread": [0.01] * 4})
    s = M.summarise(daily, horizon=1)
    sample = np.array([0.1, 0.3, 0.2, 0.4])
    assert s["rank_ic_mean"] == pytest.approx(0.25)
    assert s["rank_ic_tstat"] == pytest.approx(0.25 / (sample.std(ddof=1) / 2), abs=1e-6)
    assert s["hit_rate"] == 0.5 and s["decile_spread"] == 0.01


def test_momentum_baseline_skips_the_last_month():
    X = pd.DataFrame({"ret_252": [0.32], "ret_20": [0.10]})
    assert M.momentum_baseline(X)[0] == pytest.approx(1.32 / 1.10 - 1)


def test_scores_are_deciles_of_the_days_rank():
    pred = pd.Series(np.linspace(-0.05, 0.05, 20), index=[f"S{i}" for i in range(20)])
    scores = M.to_scores(pred)
    assert scores.tolist() == [s for s in range(1, 11) for _ in range(2)]
    assert M.label_for(1) == "Strong sell" and M.label_for(10) == "Strong buy"
    assert M.to_scores(pd.Series([0.01], index=["A"])).tolist() == [10]


def test_fingerprint_changes_with_the_data(data):
    close, _, _ = data
    a = M.fingerprint(close)
    assert a == M.fingerprint(close.copy())
    changed = close.copy()
    changed.iloc[-1, 0] += 0.01
    assert M.fingerprint(changed) != a


def test_descriptions_read_as_words():
    assert explain.describe("ret_252", 0.352, 0.0041) == (
        "12-month return of +35.20% raised the forecast by 0.41 percentage points."
    )
    assert explain.describe("sentiment_7", math.nan, -0.001).startswith(
        "News sentiment (7 days) missing lowered"
    )
    # the site's rule: percents at 2 decimals, the sign before the currency
    assert explain.format_value("insider_net_90", math.log10(1 + 250_000)) == "+$250,000"
    assert explain.format_value("insider_net_90", -math.log10(1 + 1_000)) == "-$1,000"
    assert explain.format_value("insider_net_90", 0.0) == "$0"
    assert explain.format_value("vol_20", 0.2512) == "25.12%"
    assert explain.format_value("volume_trend", math.log(1.25)) == "+25.00%"


def test_aligned_labels_are_the_stacked_labels_of_the_feature_rows():
    close, volume, market = synthetic_closes(n_tickers=6, n_days=80, seed=2)
    close.iloc[:10, 2] = np.nan  # a late listing
    close.iloc[60:, 4] = np.nan  # a delisting
    X = F.compute_features(close, volume, market=market)
    slow = labels.stack(labels.forward_excess_return(close, market)).reindex(X.index)
    pd.testing.assert_series_equal(labels.aligned(close, market, X.index), slow)
