"""Demo insights for a laptop with no vendor keys: an AI-score model trained on the demo
market and the latest demo session scored with it. Both are marked demo data, and the model
card and every score say so.

News, the economic calendar and insider trades come only from their sources
(`refresh_news`, `refresh_calendar`, `refresh_insider_trades`); nothing is invented for them,
so their pages say how to load data.
"""

from __future__ import annotations

from typing import TextIO

from insights.scores.models import ModelVersion
from insights.scores.services import ScoreError, model_retrain, scores_update
from markets.models import Ticker


def seed(*, user, stdout: TextIO) -> None:
    if not Ticker.objects.filter(is_demo=True, bars__isnull=False).exists():
        stdout.write("insights: no demo bars; the demo AI-score model is skipped.")
        return
    if not ModelVersion.objects.exists():
        try:
            result = model_retrain()
        except ScoreError as exc:
            stdout.write(f"insights: demo AI-score model not trained: {exc}")
            return
        stdout.write(
            f"insights: demo AI-score model #{result.version.pk} trained on demo data"
            f" ({'promoted' if result.promoted else 'not promoted'})."
        )
    try:
        update = scores_update()
    except ScoreError as exc:
        stdout.write(f"insights: demo AI scores not computed: {exc}")
        return
    if update.version is None:
        stdout.write(f"insights: no AI scores: {update.reason}")
        return
    stored = update.counts.get("created", 0) + update.counts.get("replaced", 0)
    stdout.write(f"insights: AI scores for {update.day}: {stored} stored.")
