from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from insights.scores.services import ScoreError, scores_update
from markets.management.commands._options import iso_date, symbol_list
from qunex.jobs import Job, JobCommand, JobFailed


class Command(JobCommand):
    help = (
        "Scores every common stock with a bar on the latest stored session (or --date, a past "
        "session, point-in-time: bars up to that day, news and filings up to its close) with "
        "the promoted model, in one vectorised pass, and stores score, label, predicted "
        "excess return, the feature contributions and the market context. A ticker already "
        "scored that day is left as is, so a second run changes nothing; --replace stores a "
        "new revision for tickers scored by an older model (the old one is kept: the track "
        "record uses what each day's run published). With no model good enough yet nothing "
        "is scored (not a failure); fails when no model was ever trained or no bars are "
        "stored. Run daily after the market refresh (.github/workflows/ai-score-update.yml)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--date", type=iso_date, help="Score this session (YYYY-MM-DD).")
        parser.add_argument("--tickers", type=symbol_list, help="Comma-separated symbols.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Store a new revision for tickers scored that day by another model version.",
        )

    def run(
        self,
        job: Job,
        *,
        date: date | None,
        tickers: list[str] | None,
        replace: bool,
        **options: Any,
    ) -> str | None:
        try:
            result = scores_update(day=date, replace=replace, symbols=tickers)
        except ScoreError as exc:
            raise JobFailed(str(exc)) from exc
        if result.version is None:
            job.count("scored", 0)
            return result.reason
        for key, value in sorted(result.counts.items()):
            if value:
                job.count(key, value)
        demo = " (demo data)" if result.version and result.version.is_demo else ""
        scored = sum(result.counts.values())
        if not scored:
            return f"no stock has a bar on {result.day}"
        note = f"{result.day} with model v{result.version.pk}{demo}"
        last_bar = result.version.last_bar
        if last_bar and result.day < last_bar:
            note += (
                f"; in sample: the model saw bars up to {last_bar}, so the track record leaves "
                "these scores out"
            )
        return note
