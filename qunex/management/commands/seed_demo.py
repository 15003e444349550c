from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from qunex.demo import DEMO_EMAIL, DEMO_PASSWORD, demo_seed
from qunex.jobs import Job, JobCommand


class Command(JobCommand):
    help = (
        "Loads demo data (a demo user, then each app's demo rows) when the database has no "
        "users yet; does nothing otherwise. `make run` calls it. --force seeds anyway "
        "(idempotent). Recorded as a JobRun like every other job."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even if users exist.")

    def run(self, job: Job, *, force: bool = False, **options: Any) -> str:
        User = get_user_model()
        if User.objects.exists() and not force:
            job.count("skipped")
            if User.objects.filter(username="demo").exists():
                return f"demo data already loaded; demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}"
            return "database already has users: demo data not loaded"
        demo_seed(stdout=self.stdout)
        job.count("seeded")
        return f"demo data loaded; log in as {DEMO_EMAIL} / {DEMO_PASSWORD}"
