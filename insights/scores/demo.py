"""Demo AI scores: a model trained on the demo market up to DEMO_SCORED_SESSIONS sessions ago,
then every session since scored with it, so the track record (realised returns 20 sessions
later) and each stock's score history have something to show.

Point in time: the model saw bars up to the first scored session only (its `last_bar`), so
every stored score is out of sample, as if the model had been trained that day and the daily
job had run each evening since. Both go through the ordinary services (`model_retrain`,
`scores_update`); the model and its scores carry `is_demo` and say "Demo data".
"""

from __future__ import annotations

from insights.scores.model import Hyperparameters
from insights.scores.models import ModelVersion
from insights.scores.services import ScoreError, model_retrain, scores_update
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


def seed() -> list[str]:
    if not Ticker.objects.filter(is_demo=True, bars__isnull=False).exists():
        return ["AI scores: no demo bars, so no demo model."]
    sessions = _recent_sessions(DEMO_SCORED_SESSIONS)
    lines = []
    version = ModelVersion.objects.promoted().first()
    if version is None and not ModelVersion.objects.exists():
        try:
            result = model_retrain(end=sessions[0], params=DEMO_PARAMS)
        except ScoreError as exc:
            return [f"AI scores: demo model not trained: {exc}"]
        version = result.version if result.promoted else None
        lines.append(
            f"AI scores: demo model v{result.version.pk} trained on demo bars up to "
            f"{sessions[0]} ({'promoted' if result.promoted else 'not promoted'})."
        )
    if version is None:
        return [*lines, "AI scores: no promoted model, so no demo scores."]
    # A model scores only the sessions after its data: earlier ones would be in sample.
    days = [d for d in sessions if version.last_bar is None or d >= version.last_bar]
    stored = 0
    for day in days:
        try:
            update = scores_update(day=day)
        except ScoreError as exc:
            lines.append(f"AI scores: {day} not scored: {exc}")
            continue
        stored += update.counts.get("created", 0) + update.counts.get("replaced", 0)
    span = f"{days[0]}..{days[-1]}" if days else "no session"
    lines.append(f"AI scores: {len(days)} sessions scored ({span}): {stored} scores stored.")
    return lines
