"""Demo AI scores: a model trained on the demo market up to the session before the first of
the last DEMO_SCORED_SESSIONS sessions, then each of those sessions scored with it as that
day's evening run would have (stamped 17:00 New York), so the track record (published scores
only, realised returns 20 sessions later) and each stock's score history have something to
show.

Point in time: the model saw bars up to the day before the first scored session only (its
`last_bar`), and each day's scores are stored with `run_at` at that evening, before the close
plus AI_SCORE_PUBLISH_GRACE_MINUTES, so every stored score counts as published and out of
sample, as if the model had been trained that day and the daily job had run each evening
since. The model is promoted with `force_promote`: a model fitted on synthetic prices need not
beat the momentum baseline, and the demo exists to show a track record; it is labelled demo
on the model card and on every score, and retires once real bars arrive (retrain_model). Both
steps go through the ordinary services (`model_retrain`, then `scores_update_days`, which stores
what `scores_update` would for each day with the bars loaded once).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from insights.scores.model import Hyperparameters
from insights.scores.models import ModelVersion
from insights.scores.services import ScoreError, model_retrain, scores_update_days
from markets.calendar import NEW_YORK
from markets.models import DailyBar, Ticker

DEMO_SCORED_SESSIONS = 60
# Walk-forward on yearly test blocks (the default is quarterly): a quarter of the fits, so the
# demo model trains in a few seconds; the model card shows the blocks it was validated on.
DEMO_PARAMS = Hyperparameters(test_size=252)


def _recent_sessions(n: int) -> list:
    days = (
        DailyBar.objects.filter(ticker__is_demo=True, ticker__asset_type=Ticker.AssetType.STOCK)
        .order_by("-date")
        .values_list("date", flat=True)
        .distinct()[:n]
    )
    return sorted(days)


def _evening(day: date) -> datetime:
    """When that day's scoring run is recorded: 17:00 New York, an hour after the close."""
    return datetime.combine(day, time(17), tzinfo=NEW_YORK)


def seed() -> list[str]:
    if not Ticker.objects.filter(is_demo=True, bars__isnull=False).exists():
        return ["AI scores: no demo bars, so no demo model."]
    sessions = _recent_sessions(DEMO_SCORED_SESSIONS)
    if not sessions:
        return ["AI scores: no demo stock bars, so no demo model."]
    lines = []
    version = ModelVersion.objects.promoted().first()
    if version is None and not ModelVersion.objects.exists():
        end = sessions[0] - timedelta(days=1)
        try:
            result = model_retrain(end=end, params=DEMO_PARAMS, force_promote=True)
        except ScoreError as exc:
            return [f"AI scores: demo model not trained: {exc}"]
        version = result.version if result.promoted else None
        lines.append(
            f"AI scores: demo model v{result.version.pk} trained on demo bars up to "
            f"{result.version.last_bar} (promoted for the demo: {result.reason})."
        )
    if version is None:
        return [*lines, "AI scores: no promoted model, so no demo scores."]
    if not version.is_demo:
        return [*lines, f"AI scores: model v{version.pk} is trained on real bars; no demo scores."]
    # A model scores only the sessions after its data: earlier ones would be in sample.
    days = [d for d in sessions if version.last_bar is None or d > version.last_bar]
    stored = 0
    # One bars load for all the sessions; each is still scored from its own trailing window.
    for day, update in scores_update_days(days=days, run_at_for=_evening).items():
        if isinstance(update, ScoreError):
            lines.append(f"AI scores: {day} not scored: {update}")
            continue
        if update.version is None:
            lines.append(f"AI scores: {day} not scored: {update.reason}")
            break
        stored += update.counts.get("created", 0) + update.counts.get("replaced", 0)
    span = f"{days[0]}..{days[-1]}" if days else "no session"
    lines.append(f"AI scores: {len(days)} sessions scored ({span}): {stored} scores stored.")
    return lines
