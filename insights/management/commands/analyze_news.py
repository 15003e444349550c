"""`manage.py analyze_news`: analyse unanalysed news articles with Claude (or the word list).

Without ANTHROPIC_API_KEY (or with --offline) the deterministic offline analyser runs
instead, and the summary line says so. Exits non-zero when the whole run failed (every
article failed, or the API refused the key).
"""

from __future__ import annotations

import argparse
from typing import Any

from insights.news.analysis.services import news_analyse
from qunex.jobs import Job, JobCommand, JobFailed


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


class Command(JobCommand):
    help = (
        "Analyse news articles that have no analysis yet (or only an offline one) with Claude, "
        "in batches, up to the per-run spending cap. Without ANTHROPIC_API_KEY, or with "
        "--offline, runs the offline word-list analyser instead."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--limit", type=_positive_int, help="At most this many articles.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be analysed; write nothing."
        )
        parser.add_argument(
            "--reanalyse",
            action="store_true",
            help="Also redo articles that already have an AI analysis or a failed one.",
        )
        parser.add_argument(
            "--offline", action="store_true", help="Use the offline word list even with a key."
        )

    def run(self, job: Job, **options: Any) -> str | None:
        result = news_analyse(
            limit=options.get("limit"),
            dry_run=options["dry_run"],
            reanalyse=options["reanalyse"],
            offline=options["offline"],
            progress=lambda items, total: job.progress(items, total=total, desc="analyse"),
        )
        for key, value in result.counts().items():
            job.count(key, value)
        for line in result.failures:
            job.log(line, level=2)
        note = result.note()
        if result.whole_run_failed:
            first = result.failures[0] if result.failures else result.aborted
            raise JobFailed(f"{note}; {first}")
        return note
