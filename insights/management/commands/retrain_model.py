from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from insights.scores.model import Hyperparameters
from insights.scores.services import ScoreError, model_retrain
from markets.management.commands._options import iso_date, positive_int, symbol_list
from qunex.jobs import Job, JobCommand, JobFailed


class Command(JobCommand):
    help = (
        "Trains a candidate AI-score model on the stored history of every common stock listed "
        "in each period (delisted ones up to their last bar; ETFs and indexes never), with "
        "features cut at each session's close and forward 20-session excess-return labels, "
        "validates it walk-forward with a 20-session gap, and stores it as a new model "
        "version. It is promoted only when, on its own test days, its rank IC is significant "
        "and beats the momentum baseline and the incumbent (re-run on the same folds) by "
        "AI_SCORE_PROMOTION_MARGIN with a paired t-stat of AI_SCORE_PROMOTION_MIN_TSTAT; "
        "otherwise no model (or the incumbent) keeps scoring. A promoted demo model retires "
        "once a candidate is trained on real bars. --force-promote overrides the rule (staff). "
        "Run weekly (.github/workflows/model-retrain.yml)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--end", type=iso_date, help="Train on bars up to this date.")
        parser.add_argument("--tickers", type=symbol_list, help="Comma-separated symbols.")
        parser.add_argument("--seed", type=positive_int, default=7, help="Sampling seed.")
        parser.add_argument(
            "--force-promote",
            action="store_true",
            help="Promote the candidate even when it does not beat the promoted model.",
        )

    def run(
        self,
        job: Job,
        *,
        end: date | None,
        tickers: list[str] | None,
        seed: int,
        force_promote: bool,
        **options: Any,
    ) -> str | None:
        def progress(items, total):
            return job.progress(items, total=total, desc="loading bars")

        try:
            result = model_retrain(
                end=end,
                symbols=tickers,
                params=Hyperparameters(seed=seed),
                force_promote=force_promote,
                progress=progress,
            )
        except ScoreError as exc:
            raise JobFailed(str(exc)) from exc
        v = result.version
        job.count("trained")
        job.count("promoted" if result.promoted else "not promoted")
        ic, base = v.metrics.get("rank_ic_mean"), v.baseline_metrics.get("rank_ic_mean")
        demo = " (demo data)" if v.is_demo else ""
        if result.retired is not None:
            job.count("retired", 1)
        return (
            f"v{v.pk}{demo} {v.data_start}..{v.data_end}, {v.tickers} tickers, tested "
            f"{v.test_start}..{v.test_end}, rank IC {ic} vs momentum {base}; {result.reason}"
        )
