"""The AI-score model registry and the scores it produced.

A `ModelVersion` is one trained model: when, on which data (window, tickers, fingerprint),
with which features and hyperparameters, how it did out of sample (walk-forward metrics next
to the momentum baseline's) and the fitted numbers themselves (`artifact`: the app's own JSON,
nothing that can run code when loaded). At most one version is promoted: the one that scores.

An `AIScore` is one revision of one ticker's score on one session, with the model version
that produced it and when it was stored. Rows are never overwritten: rescoring a stored day
(`update_ai_scores --replace`) adds a revision and makes it the current one (`is_current`,
what pages show); the track record reads, for each day, the revision stored by that day's
own run (before the publication deadline), so nothing stored later can rewrite it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from insights.scores.features import MARKET_FEATURES
from markets.models import Ticker

__all__ = ["AIScore", "ModelVersion"]


class ModelVersionQuerySet(models.QuerySet):
    def promoted(self):
        return self.filter(promoted=True)


class ModelVersion(models.Model):
    trained_at = models.DateTimeField(db_index=True)
    data_start = models.DateField(help_text="First session of the training data.")
    data_end = models.DateField(help_text="Last session with a known label.")
    last_bar = models.DateField(
        null=True, help_text="Last session of bars the model saw (labels look 20 sessions ahead)."
    )
    tickers = models.PositiveIntegerField(default=0, help_text="Tickers in the training universe.")
    rows = models.PositiveIntegerField(default=0, help_text="Labelled (ticker, day) rows.")
    features = models.JSONField(default=list)
    hyperparameters = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the training closes.")
    metrics = models.JSONField(default=dict, help_text="Walk-forward out-of-sample metrics.")
    baseline_metrics = models.JSONField(default=dict, help_text="Momentum-only baseline.")
    folds = models.JSONField(default=list)
    artifact = models.JSONField(help_text="The fitted model as plain numbers (app-written).")
    artifact_format = models.CharField(max_length=20, default="ridge-v1")
    promoted = models.BooleanField(default=False, db_index=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(
        "demo",
        default=False,
        help_text="Trained on the synthetic demo prices: labelled demo everywhere.",
    )
    note = models.CharField(max_length=300, blank=True)
    comparison = models.JSONField(
        default=dict,
        blank=True,
        help_text="Candidate, momentum baseline and incumbent on the same test days.",
    )
    retired_at = models.DateTimeField(
        null=True, blank=True, help_text="When a demo model stopped scoring (real bars arrived)."
    )

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["promoted"],
                condition=models.Q(promoted=True),
                name="modelversion_one_promoted",
            )
        ]

    def __str__(self) -> str:
        demo = " (demo data)" if self.is_demo else ""
        return f"Model v{self.pk} {self.trained_at:%Y-%m-%d}{demo}"

    @property
    def test_start(self) -> str | None:
        return (self.folds or [{}])[0].get("test_start")

    @property
    def test_end(self) -> str | None:
        return (self.folds or [{}])[-1].get("test_end")

    @property
    def rank_ic(self) -> float | None:
        return (self.metrics or {}).get("rank_ic_mean")

    @property
    def baseline_rank_ic(self) -> float | None:
        return (self.baseline_metrics or {}).get("rank_ic_mean")


class AIScoreQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True)

    def latest_date(self):
        return self.current().aggregate(d=models.Max("date"))["d"]


class AIScore(models.Model):
    ticker = models.ForeignKey(Ticker, on_delete=models.CASCADE, related_name="ai_scores")
    date = models.DateField(db_index=True, help_text="Session whose close the score uses.")
    score = models.PositiveSmallIntegerField(help_text="1 (worst decile) to 10 (best).")
    label = models.CharField(max_length=12)
    predicted_excess_return = models.FloatField(
        help_text="Forecast 20-session return in excess of the market (fraction)."
    )
    baseline = models.FloatField(help_text="The model's forecast for an average stock.")
    contributions = models.JSONField(
        default=list, help_text="Every feature's push, largest first; they add up to the gap."
    )
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="scores")
    market_context = models.JSONField(
        default=list,
        blank=True,
        help_text="Market-wide features: they move every stock's forecast alike, not the rank.",
    )
    is_demo = models.BooleanField("demo", default=False)
    revision = models.PositiveSmallIntegerField(default=1)
    is_current = models.BooleanField("current", default=True, help_text="The revision pages show.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AIScoreQuerySet.as_manager()

    class Meta:
        verbose_name = "AI score"
        verbose_name_plural = "AI scores"
        ordering = ["-date", "-score", "ticker_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticker", "date", "revision"], name="aiscore_unique_revision"
            ),
            models.UniqueConstraint(
                fields=["ticker", "date"],
                condition=models.Q(is_current=True),
                name="aiscore_one_current",
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=10), name="aiscore_score_1_10"
            ),
        ]
        indexes = [models.Index(fields=["date", "score"]), models.Index(fields=["ticker", "date"])]

    def __str__(self) -> str:
        return f"{self.ticker_id} {self.date} {self.score}"

    @property
    def own_contributions(self) -> list[dict]:
        """Every contribution of the stock's own features (no market-wide one): they add up
        to the gap between its forecast and the day's average forecast."""
        return [c for c in self.contributions or [] if c.get("feature") not in MARKET_FEATURES]

    @property
    def reasons(self) -> list[dict]:
        """The stock's own reasons, largest first: no market-wide feature (the same for every
        stock that day, it cannot move the rank) and none that rounds to 0.00 points."""
        return [
            c
            for c in self.contributions or []
            if c.get("feature") not in MARKET_FEATURES
            and abs(c.get("contribution") or 0.0) * 100 >= 0.005
        ]

    @property
    def top_contributions(self) -> list[dict]:
        return self.reasons[:5]
