"""Writes of the AI-score area: train (and maybe promote) a model, promote, roll back or
retire one, and store one session's scores.

1. `model_retrain` loads the history of every common stock listed in each period (delisted
   ones up to their last bar), computes features and labels, validates walk-forward, fits the
   final model and stores a `ModelVersion`. The candidate is promoted only when, on its own
   test days, its rank IC is significant and it beats the momentum baseline and the
   incumbent (re-run on the same folds) by AI_SCORE_PROMOTION_MARGIN with a paired t-stat of
   AI_SCORE_PROMOTION_MIN_TSTAT (`model.promotion_verdict`). A promoted demo model retires as
   soon as a candidate is trained on real bars, whether or not the candidate is promoted.
2. `scores_update` scores every stock with a bar on one session with the promoted model, from
   the trailing window of bars that session needs, and stores one `AIScore` per ticker.
   Running it again changes nothing; `replace` adds a revision, never overwrites one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from insights.scores import explain, features, inputs, labels
from insights.scores import model as ml
from insights.scores.models import AIScore, ModelVersion
from markets.models import DailyBar

NOT_GOOD_ENOUGH = (
    "No model is good enough yet: no trained model has beaten the momentum baseline out of "
    "sample by the required margin, so no AI scores are published."
)


class ScoreError(Exception):
    """The job as a whole cannot run (no model, no bars): the message says what to do."""


@dataclass
class RetrainResult:
    version: ModelVersion
    promoted: bool
    reason: str
    retired: ModelVersion | None = None  # a demo model that stopped scoring


def training_data(
    *, end: date | None = None, symbols: list[str] | None = None, progress=None
) -> dict[str, Any]:
    """Features (long), labels and closes of the universe up to `end` (default: all)."""
    universe = inputs.universe(symbols=symbols)
    if not universe:
        raise ScoreError("No stocks: seed the demo data or sync tickers first.")
    last = end or DailyBar.objects.aggregate(d=Max("date"))["d"]
    if last is None:
        raise ScoreError("No daily bars stored: run refresh_market_data (or seed_demo) first.")
    close, volume = inputs.load_bars(
        ticker_ids=universe.ids, symbols=universe.symbols, start=None, end=last, progress=progress
    )
    if close.empty:
        raise ScoreError(f"The stocks have no daily bars up to {last}.")
    market = inputs.market_series(start=None, end=last)
    first = close.index[0].date()
    sentiment, insider = inputs.event_inputs(start=first, end=last, symbols=universe.symbols)
    X = features.compute_features(
        close, volume, market=market, sentiment=sentiment, insider=insider
    )
    mkt = features.market_close(close, market)
    y = labels.aligned(close, mkt, X.index)
    return {"universe": universe, "close": close, "X": X, "y": y}


def _same_method(version: ModelVersion, params: ml.Hyperparameters) -> bool:
    return (
        list(version.features or []) == list(features.FEATURES)
        and ml.Hyperparameters.from_dict(version.hyperparameters or {}) == params
        and version.artifact_format == "ridge-v1"
    )


def compare(
    *,
    X: pd.DataFrame,
    y: pd.Series,
    wf: ml.WalkForward,
    params: ml.Hyperparameters,
    incumbent: ModelVersion | None,
) -> dict[str, Any]:
    """The candidate, the momentum baseline and the incumbent on the candidate's test days.

    1. Candidate and baseline: mean IC and t-stat on the same non-overlapping sample, and
       the paired difference.
    2. Incumbent: its method (features, hyperparameters) re-run walk-forward on the
       candidate's folds. The same method gives the same forecasts, so a refit of it on newer
       data ties by construction and is judged against the baseline alone; an incumbent
       whose features this code no longer computes cannot be re-run and is not compared.
    """
    out: dict[str, Any] = {
        "test_start": wf.test_window[0] if wf.test_window else None,
        "test_end": wf.test_window[1] if wf.test_window else None,
        "sample_days": len(wf.sample),
        "model": wf.model,
        "baseline": wf.baseline,
        "vs_baseline": ml.paired(wf.daily["ic"], wf.daily["base_ic"], wf.sample),
        "incumbent": incumbent.pk if incumbent else None,
        "incumbent_metrics": None,
        "vs_incumbent": None,
        "incumbent_note": "",
        "margin": settings.AI_SCORE_PROMOTION_MARGIN,
        "min_tstat": settings.AI_SCORE_PROMOTION_MIN_TSTAT,
    }
    if incumbent is None:
        return out
    if _same_method(incumbent, params):
        out["incumbent_note"] = (
            f"same method as v{incumbent.pk} (features and hyperparameters), refitted on newer "
            "data: it ties by construction, so only the baseline decides"
        )
        return out
    inc_features = list(incumbent.features or [])
    if not inc_features or any(f not in X.columns for f in inc_features):
        out["incumbent_note"] = f"v{incumbent.pk}'s features are not all computed any more"
        return out
    inc_params = ml.Hyperparameters.from_dict(incumbent.hyperparameters or {})
    again = ml.walk_forward(X, y, inc_params, features=inc_features, split=params)
    inc_ic = again.daily["ic"]
    out["incumbent_metrics"] = ml.summarise(again.daily, params.gap, wf.sample)
    out["vs_incumbent"] = ml.paired(wf.daily["ic"], inc_ic, wf.sample)
    out["incumbent_note"] = f"v{incumbent.pk}'s method re-run on these folds"
    return out


def model_retrain(
    *,
    end: date | None = None,
    symbols: list[str] | None = None,
    params: ml.Hyperparameters | None = None,
    force_promote: bool = False,
    progress: Callable | None = None,
) -> RetrainResult:
    """Train, validate and store a candidate; promote it when it earns it (module docstring).
    Keyword-only; `end` trains on bars up to that date (what a model trained then saw)."""
    params = params or ml.Hyperparameters()
    data = training_data(end=end, symbols=symbols, progress=progress)
    X, y, close = data["X"], data["y"], data["close"]
    try:
        wf = ml.walk_forward(X, y, params)
        fitted = ml.fit(X, y, params)
    except ValueError as exc:
        raise ScoreError(f"Not enough history to train: {exc}") from exc
    is_demo = data["universe"].demo
    current = ModelVersion.objects.promoted().first()
    retiring = current if current is not None and current.is_demo and not is_demo else None
    incumbent = None if retiring is not None else current
    comparison = compare(X=X, y=y, wf=wf, params=params, incumbent=incumbent)
    labelled = y.dropna().index.get_level_values("date")
    version = ModelVersion(
        trained_at=timezone.now(),
        data_start=labelled.min().date(),
        data_end=labelled.max().date(),
        last_bar=close.index[-1].date(),
        tickers=int(close.notna().any().sum()),  # stocks with bars (delisted ones too)
        rows=int(y.notna().sum()),
        features=list(features.FEATURES),
        hyperparameters=params.to_dict(),
        fingerprint=ml.fingerprint(close),
        metrics=wf.model,
        baseline_metrics=wf.baseline,
        folds=wf.folds,
        comparison=comparison,
        artifact=fitted.to_dict(),
        artifact_format=fitted.kind,
        is_demo=is_demo,
    )
    promote, reason = ml.promotion_verdict(
        comparison,
        margin=settings.AI_SCORE_PROMOTION_MARGIN,
        min_tstat=settings.AI_SCORE_PROMOTION_MIN_TSTAT,
    )
    if force_promote and not promote:
        promote, reason = True, f"forced by staff ({reason})"
    with transaction.atomic():
        now_promoted = ModelVersion.objects.select_for_update().promoted().first()
        if now_promoted is not None and now_promoted.pk != getattr(current, "pk", None):
            raise ScoreError(
                f"v{now_promoted.pk} was promoted while this model trained; run it again."
            )
        if retiring is not None:
            model_retire(version=retiring, reason="real bars replaced the demo bars")
            reason += f"; demo model v{retiring.pk} retired"
        version.note = reason[:300]
        version.save()
        if promote:
            model_promote(version=version)
    return RetrainResult(version=version, promoted=promote, reason=reason, retired=retiring)


@transaction.atomic
def model_retire(*, version: ModelVersion, reason: str) -> ModelVersion:
    """Stop a model scoring (a demo model once real bars exist): it stays in the registry."""
    version.promoted = False
    version.retired_at = timezone.now()
    version.note = f"{version.note}; retired: {reason}"[-300:].lstrip("; ")
    version.save(update_fields=["promoted", "retired_at", "note"])
    return version


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
    day: date | None
    counts: dict[str, int] = field(default_factory=dict)
    version: ModelVersion | None = None
    reason: str = ""  # why nothing was scored, when nothing was


def _latest_session(on_or_before: date | None) -> date | None:
    qs = DailyBar.objects.filter(ticker__asset_type="stock")
    if on_or_before is not None:
        qs = qs.filter(date__lte=on_or_before)
    return qs.aggregate(d=Max("date"))["d"]


@dataclass(frozen=True)
class Preloaded:
    """Bars and market closes loaded once for several sessions' scoring (`scores_update_days`).

    `window(start, end)` gives exactly what `inputs.load_bars` and `inputs.market_series`
    return for that range: rows are sessions on which some ticker of the universe has a bar,
    so slicing the loaded range by date yields the same frames, and nothing after `end`.
    """

    close: pd.DataFrame
    volume: pd.DataFrame
    market: pd.Series | None

    @classmethod
    def load(cls, *, universe: inputs.Universe, start: date, end: date) -> Preloaded:
        close, volume = inputs.load_bars(
            ticker_ids=universe.ids, symbols=universe.symbols, start=start, end=end
        )
        return cls(close, volume, inputs.market_series(start=start, end=end))

    def window(
        self, *, start: date, end: date
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series | None]:
        lo, hi = pd.Timestamp(start), pd.Timestamp(end)
        market = self.market
        if market is not None:
            market = market.loc[lo:hi]
            market = market if len(market) else None
        return self.close.loc[lo:hi], self.volume.loc[lo:hi], market


def score_day(
    *,
    day: date,
    version: ModelVersion,
    symbols: list[str] | None = None,
    universe: inputs.Universe | None = None,
    preloaded: Preloaded | None = None,
) -> pd.DataFrame:
    """Score every common stock with a bar on `day`, point-in-time, without writing.

    Returns a frame indexed by symbol: score, label, prediction, baseline (the day's average
    forecast), contributions and market context. Only the trailing WINDOW_DAYS of bars are
    read (the 253 sessions a day's features need); news and filings count from the session
    they belong to (cut at each close).
    """
    fitted = ml.ScoreModel.from_dict(version.artifact)
    universe = universe or inputs.universe(symbols=symbols)
    start = day - timedelta(days=inputs.WINDOW_DAYS)
    if preloaded is not None:
        close, volume, market = preloaded.window(start=start, end=day)
    else:
        close, volume = inputs.load_bars(
            ticker_ids=universe.ids, symbols=universe.symbols, start=start, end=day
        )
    if close.empty or pd.Timestamp(day) not in close.index:
        return pd.DataFrame()
    if preloaded is None:
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
            "market_context": [e["market_context"] for e in explained],
        },
        index=X.index,
    )


def scores_update(
    *,
    day: date | None = None,
    replace: bool = False,
    symbols: list[str] | None = None,
    run_at: datetime | None = None,
) -> UpdateResult:
    """Store the promoted model's scores for `day` (default: the latest stored session).

    1. No promoted model: nothing is scored (`reason` says no model is good enough yet);
       no model trained at all is an error.
    2. A demo model scores demo tickers only; with no demo ticker left it retires.
    3. A ticker already scored that day by the same model is left as is; one scored by
       another model is kept unless `replace`, which stores a new revision and makes it
       current: stored revisions are never changed, so the track record cannot be rewritten.
    `run_at` (demo models only: seeding a demo history) is the time the run is recorded at.
    """
    prepared = _prepare(day=day, symbols=symbols, run_at=run_at)
    if isinstance(prepared, UpdateResult):
        return prepared
    version, session, universe = prepared
    return _score_and_store(
        version=version, session=session, universe=universe, replace=replace, run_at=run_at
    )


def scores_update_days(
    *,
    days: list[date],
    run_at_for: Callable[[date], datetime] | None = None,
    replace: bool = False,
    symbols: list[str] | None = None,
) -> dict[date, UpdateResult | ScoreError]:
    """`scores_update(day=d, run_at=run_at_for(d))` for each day in order, storing exactly
    what those calls store, with the bars and market closes loaded once for all of them.

    Each day is still checked, scored from its own trailing window (sliced from the loaded
    range, never past its close) and stored in its own transaction. The result maps each day
    to its `UpdateResult`, or to the `ScoreError` that day's call would have raised; a day
    with no promoted model (version None) ends the run, as the following days would say the
    same.
    """
    out: dict[date, UpdateResult | ScoreError] = {}
    preloaded: Preloaded | None = None
    loaded_ids: list[int] | None = None
    for day in sorted(days):
        run_at = run_at_for(day) if run_at_for is not None else None
        try:
            prepared = _prepare(day=day, symbols=symbols, run_at=run_at)
        except ScoreError as exc:
            out[day] = exc
            continue
        if isinstance(prepared, UpdateResult):
            out[day] = prepared
            break
        version, session, universe = prepared
        if loaded_ids != universe.ids:  # the first day, or the universe changed meanwhile
            preloaded = Preloaded.load(
                universe=universe,
                start=min(days) - timedelta(days=inputs.WINDOW_DAYS),
                end=max(days),
            )
            loaded_ids = universe.ids
        out[day] = _score_and_store(
            version=version,
            session=session,
            universe=universe,
            replace=replace,
            run_at=run_at,
            preloaded=preloaded,
        )
    return out


def _score_and_store(
    *,
    version: ModelVersion,
    session: date,
    universe: inputs.Universe,
    replace: bool,
    run_at: datetime | None,
    preloaded: Preloaded | None = None,
) -> UpdateResult:
    frame = score_day(day=session, version=version, universe=universe, preloaded=preloaded)
    result = UpdateResult(day=session, version=version)
    result.counts = _store(
        version=version,
        session=session,
        universe=universe,
        frame=frame,
        replace=replace,
        run_at=run_at,
    )
    return result


def _prepare(
    *, day: date | None, symbols: list[str] | None, run_at: datetime | None
) -> tuple[ModelVersion, date, inputs.Universe] | UpdateResult:
    """The promoted model, the session and the universe to score, or the result saying why
    nothing is scored (steps 1-2 of `scores_update`)."""
    version = ModelVersion.objects.promoted().first()
    if version is None:
        if not ModelVersion.objects.exists():
            raise ScoreError("No model trained yet: run `manage.py retrain_model` first.")
        return UpdateResult(day=day, reason=NOT_GOOD_ENOUGH)
    if run_at is not None and not version.is_demo:
        raise ScoreError("run_at is for seeding demo histories only; real runs are stamped now.")
    session = _latest_session(day)
    if session is None:
        raise ScoreError("No daily bars stored: run refresh_market_data (or seed_demo) first.")
    if day is not None and session != day:
        raise ScoreError(f"{day} is not a stored session (the last one before it is {session}).")
    universe = inputs.universe(symbols=symbols)
    if version.is_demo:
        keep = [(i, s) for i, s in zip(universe.ids, universe.symbols, strict=True)]
        keep = [(i, s) for i, s in keep if i in universe.demo_ids]
        if not keep:
            model_retire(version=version, reason="no demo ticker left to score")
            return UpdateResult(
                day=session,
                reason=f"demo model v{version.pk} retired: it never scores real data; "
                "run retrain_model",
            )
        universe = inputs.Universe(
            ids=[i for i, _ in keep], symbols=[s for _, s in keep], demo_ids=universe.demo_ids
        )
    return version, session, universe


def _store(
    *,
    version: ModelVersion,
    session: date,
    universe: inputs.Universe,
    frame: pd.DataFrame,
    replace: bool,
    run_at: datetime | None,
) -> dict[str, int]:
    """Store a scored frame for one session (step 3 of `scores_update`); returns the counts."""
    counts = {"created": 0, "unchanged": 0, "replaced": 0, "kept": 0}
    if frame.empty:
        return counts
    ids = dict(zip(universe.symbols, universe.ids, strict=True))
    stamp = run_at or timezone.now()
    with transaction.atomic():
        existing = {
            s.ticker_id: s
            for s in AIScore.objects.select_for_update().filter(
                date=session, ticker_id__in=[ids[s] for s in frame.index], is_current=True
            )
        }
        create, superseded = [], []
        for symbol, row in frame.iterrows():
            tid = ids[symbol]
            old = existing.get(tid)
            if old is not None and old.model_version_id == version.pk:
                counts["unchanged"] += 1
                continue
            if old is not None and not replace:
                counts["kept"] += 1
                continue
            if old is not None:
                superseded.append(old.pk)
            create.append(
                AIScore(
                    ticker_id=tid,
                    date=session,
                    score=int(row["score"]),
                    label=row["label"],
                    predicted_excess_return=float(row["prediction"]),
                    baseline=float(row["baseline"]),
                    contributions=row["contributions"],
                    market_context=row["market_context"],
                    model_version_id=version.pk,
                    is_demo=version.is_demo or tid in universe.demo_ids,
                    revision=old.revision + 1 if old is not None else 1,
                    created_at=stamp,
                )
            )
        if superseded:
            AIScore.objects.filter(pk__in=superseded).update(is_current=False)
        AIScore.objects.bulk_create(create, batch_size=500)
    counts["replaced"] = len(superseded)
    counts["created"] = len(create) - len(superseded)
    return counts
