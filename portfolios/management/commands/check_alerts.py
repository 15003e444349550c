"""Fire the price alerts whose condition holds at the latest price (hourly, after prices)."""

from __future__ import annotations

from typing import Any

from portfolios import selectors, services
from qunex.jobs import Job, JobCommand


class Command(JobCommand):
    help = (
        "Checks every armed price alert against its ticker's latest price (the quote, else the "
        "last daily close) and fires those whose condition holds: exactly once each, by email "
        "and as an in-app notification. Run it after prices update; re-running changes nothing "
        "until an alert is re-armed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would fire; change nothing."
        )
        parser.add_argument("--symbols", default="", help="Only alerts on these tickers (A,B).")

    def run(self, job: Job, *, dry_run: bool = False, symbols: str = "", **options: Any) -> str:
        wanted = {s.strip().upper() for s in symbols.split(",") if s.strip()}
        pairs = selectors.armed_alerts_with_prices()
        if wanted:
            pairs = [(a, p) for a, p in pairs if a.ticker.symbol in wanted]
        job.count("checked", 0)
        for alert, info in job.progress(pairs, total=len(pairs), desc="alerts"):
            job.count("checked")
            if info.price is None:
                job.count("no_price")
                continue
            if dry_run:
                if alert.holds_at(info.price):
                    job.count("would_fire")
                    job.log(f"would fire: {alert.describe()} at {info.price}")
                continue
            outcome = services.alert_check(alert=alert, price=info.price)
            if outcome == "fired":
                job.count("fired")
                job.log(f"fired: {alert.describe()} at {info.price}")
            elif outcome == "fired_email_failed":
                job.count("fired")
                job.count("failed")  # the email; the notification and firing are recorded
            elif outcome == "already_fired":
                job.count("already_fired")
            else:
                job.count("not_met")
        return "dry run: nothing changed" if dry_run else ""
