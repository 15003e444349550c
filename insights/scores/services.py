"""Writes of the AI-score area: train (and maybe promote) a model, promote or roll back, and
store one session's scores.

1. `model_retrain` loads the universe's whole history, computes features and labels,
   validates walk-forward, fits the final model and stores a `ModelVersion`; it promotes the
   candidate only when no model is promoted or its out-of-sample mean rank IC beats the
   promoted one's (or `force_promote`).
2. `scores_update` scores every active stock on one session with the promoted model, from the
   trailing window of bars that session needs, and stores one `AIScore` per ticker. Running it
   again for the same session changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from insights.scores import explain, features, inputs, labels
from insights.scores import model as ml
from insights.scores.models import AIScore, ModelVersion
from markets.models import DailyBar

PROMOTION_METRIC = "rank_ic_mean"


class ScoreError(Exception):
    """The job as a whole cannot run (no model, no bars): the message says what to do."""


@dataclass
class RetrainResult:
    version: ModelVersion
    promoted: bool
    reason: str


def _metric(metrics: dict[str, Any] | None) -> float:
    value = (metrics or {}).get(PROMOTION_METRIC)
    return float(value) if value is not None and math.isfinite(value) else -math.inf


def should_promote(candidate: dict[str, Any], current: ModelVersion | None) -> tuple[bool, str]:
    """The promotion rule: promote when nothing is promoted or the candidate's out-of-sample
    mean rank IC is strictly higher than the promoted model's."""
    if current is None:
        return True, "no model was promoted"
    new, old = _metric(candidate), _metric(current.metrics)
    if new > old:
        return True, f"rank IC {new:.4f} beats v{current.pk}'s {old:.4f}"
    return False, f"rank IC {new:.4f} does not beat v{current.pk}'s {old:.4f}"


def training_data(
    *, end: date | None = None, symbols: list[str] | None = None, progress=None
) -> dict[str, Any]:
    """Features (long), labels and closes of the universe up to `end` (default: all)."""
    universe = inputs.universe(symbols=symbols)
    if not universe:
        raise ScoreError("No active stocks: seed the demo data or sync tickers first.")
    last = end or DailyBar.objects.aggregate(d=Max("date"))["d"]
    if last is None:
        raise ScoreError("No daily bars stored: run refresh_market_data (or seed_demo) first.")
    close, volume = inputs.load_bars(
        ticker_ids=universe.ids, symbols=universe.symbols, start=None, end=last, progress=progress
    )
    if close.empty:
        raise ScoreError(f"The active stocks have no daily bars up to {last}.")
    market = inputs.market_series(start=None, end=last)
    first = close.index[0].date()
    sentiment, insider = inputs.event_inputs(start=first, end=last, symbols=universe.symbols)
    X = features.compute_features(
        close, volume, market=market, sentiment=sentiment, insider=insider
    )
    mkt = features.market_close(close, market)
    y = labels.stack(labels.forward_excess_return(close, mkt)).reindex(X.index)
    return {"universe": universe, "close": close, "X": X, "y": y}


def model_retrain(
    *,
    end: date | None = None,
    symbols: list[str] | None = None,
    params: ml.Hyperparameters | None = None,
    force_promote: bool = False,
    progress: Callable | None = None,
) -> RetrainResult:
    params = params or ml.Hyperparameters()
    data = training_data(end=end, symbols=symbols, progress=progress)
    X, y, close = data["X"], data["y"], data["close"]
    try:
        wf = ml.walk_forward(X, y, params)
        fitted = ml.fit(X, y, params)
    except ValueError as exc:
        raise ScoreError(f"Not enough history to train: {exc}") from exc
    labelled = y.dropna().index.get_level_values("date")
    version = ModelVersion(
        trained_at=timezone.now(),
        data_start=labelled.min().date(),
        data_end=labelled.max().date(),
        last_bar=close.index[-1].date(),
        tickers=len(data["universe"]),
        rows=int(y.notna().sum()),
        features=list(features.FEATURES),
        hyperparameters=params.to_dict(),
        fingerprint=ml.fingerprint(close),
        metrics=wf.model,
        baseline_metrics=wf.baseline,
        folds=wf.folds,
        artifact=fitted.to_dict(),
        artifact_format=fitted.kind,
        is_demo=data["universe"].demo,
    )
    with transaction.atomic():
        current = ModelVersion.objects.select_for_update().promoted().first()
        promote, reason = should_promote(wf.model, current)
        if force_promote and not promote:
            promote, reason = True, f"forced by staff ({reason})"
        version.note = reason[:300]
        version.save()
        if promote:
            model_promote(version=version)
    return RetrainResult(version=version, promoted=promote, reason=reason)


@transaction.atomic
def model_promote(*, version: ModelVersion) -> ModelVersion:
    """Make `version` the one promoted model (the previous one keeps its promoted_at)."""
    ml.ScoreModel.from_dict(version.artifact)  # refuse an unreadable artifact
    ModelVersion.objects.promoted().exclude(pk=version.pk).update(promoted=False)
    version.promoted = True
    version.promoted_at = timezone.now()
    version.save(update_fields=["promoted", "promoted_at"])
    return version


@transaction.atomic
def model_rollback() -> ModelVersion | None:
    """Promote the version that was promoted before the current one; None if there is none."""
    current = ModelVersion.objects.promoted().first()
    previous = (
        ModelVersion.objects.filter(promoted_at__isnull=False)
        .exclude(pk=current.pk if current else None)
        .order_by("-promoted_at")
        .first()
    )
    if previous is None:
        return None
    return model_promote(version=previous)


@dataclass
class UpdateResult:
    day: date
    counts: dict[str, int] = field(default_factory=dict)
    version: ModelVersion | None = None


def _latest_session(on_or_before: date | None) -> date | None:
    qs = DailyBar.objects.filter(ticker__active=True, ticker__asset_type="stock")
    if on_or_before is not None:
        qs = qs.filter(date__lte=on_or_before)
    return qs.aggregate(d=Max("date"))["d"]


def score_day(
    *, day: date, version: ModelVersion, symbols: list[str] | None = None
) -> pd.DataFrame:
    """Score every active stock with a bar on `day`, point-in-time, without writing.

    Returns a frame indexed by symbol: score, label, prediction, baseline, contributions.
    Only the trailing WINDOW_DAYS of bars are read (the 253 sessions a day's features need).
    """
    fitted = ml.ScoreModel.from_dict(version.artifact)
    universe = inputs.universe(symbols=symbols)
    start = day - timedelta(days=inputs.WINDOW_DAYS)
    close, volume = inputs.load_bars(
        ticker_ids=universe.ids, symbols=universe.symbols, start=start, end=day
    )
    if close.empty or pd.Timestamp(day) not in close.index:
        return pd.DataFrame()
    market = inputs.market_series(start=start, end=day)
    sentiment, insider = inputs.event_inputs(start=day, end=day, symbols=universe.symbols)
    X = features.features_for(
        day, close, volume, market=market, sentiment=sentiment, insider=insider
    )
    if X.empty:
        return pd.DataFrame()
    explained = explain.explain_rows(fitted, X)
    pred = pd.Series([e["prediction"] for e in explained], index=X.index)
    scores = ml.to_scores(pred)
    return pd.DataFrame(
        {
            "score": scores,
            "label": [ml.label_for(s) for s in scores],
            "prediction": pred,
            "baseline": [e["baseline"] for e in explained],
            "contributions": [e["contributions"] for e in explained],
        },
        index=X.index,
    )


def scores_update(
    *, day: date | None = None, replace: bool = False, symbols: list[str] | None = None
) -> UpdateResult:
    """Store the promoted model's scores for `day` (default: the latest stored session).

    Idempotent: a ticker already scored that day by the same model is left as is; one scored
    by another model is kept unless `replace` (the track record uses scores as stored).
    """
    version = ModelVersion.objects.promoted().first()
    if version is None:
        raise ScoreError("No promoted model: run `manage.py retrain_model` first.")
    session = _latest_session(day)
    if session is None:
        raise ScoreError("No daily bars stored: run refresh_market_data (or seed_demo) first.")
    if day is not None and session != day:
        raise ScoreError(f"{day} is not a stored session (the last one before it is {session}).")
    result = UpdateResult(day=session, version=version)
    frame = score_day(day=session, version=version, symbols=symbols)
    counts = {"created": 0, "unchanged": 0, "replaced": 0, "kept": 0}
    if frame.empty:
        result.counts = counts
        return result
    uni = inputs.universe(symbols=list(frame.index))
    ids = dict(zip(uni.symbols, uni.ids, strict=True))
    demo_ids = uni.demo_ids
    with transaction.atomic():
        existing = {
            s.ticker_id: s
            for s in AIScore.objects.select_for_update().filter(date=session, ticker_id__in=uni.ids)
        }
        create, update = [], []
        for symbol, row in frame.iterrows():
            tid = ids[symbol]
            values = {
                "score": int(row["score"]),
                "label": row["label"],
                "predicted_excess_return": float(row["prediction"]),
                "baseline": float(row["baseline"]),
                "contributions": row["contributions"],
                "model_version_id": version.pk,
                "is_demo": version.is_demo or tid in demo_ids,
            }
            old = existing.get(tid)
            if old is None:
                create.append(AIScore(ticker_id=tid, date=session, **values))
            elif old.model_version_id == version.pk:
                counts["unchanged"] += 1
            elif replace:
                for k, v in values.items():
                    setattr(old, k, v)
                update.append(old)
            else:
                counts["kept"] += 1
        AIScore.objects.bulk_create(create, batch_size=500)
        if update:
            AIScore.objects.bulk_update(update, [*values.keys()], batch_size=500)
    counts["created"], counts["replaced"] = len(create), len(update)
    result.counts = counts
    return result
