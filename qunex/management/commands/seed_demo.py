from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from qunex.demo import DEMO_EMAIL, DEMO_PASSWORD, demo_seed
from qunex.jobs import Job, JobCommand


class Command(JobCommand):
    help = (
        "Loads demo data (a demo user, then each app's demo rows) when the database has no "
        "users yet; does nothing otherwise. `make run` calls it. --force seeds anyway "
        "(idempotent). Recorded as a JobRun like every other job. After the summary it says "
        "where the staff panel is and, last, the demo login on a line of its own."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even if users exist.")

    def run(self, job: Job, *, force: bool = False, **options: Any) -> str:
        User = get_user_model()
        if User.objects.exists() and not force:
            job.count("skipped")
            if User.objects.filter(username="demo").exists():
                return "demo data already loaded"
            return "database already has users: demo data not loaded"
        demo_seed(stdout=self.stdout)
        job.count("seeded")
        return "demo data loaded"

    def handle(self, *args: Any, **options: Any) -> None:
        super().handle(*args, **options)
        User = get_user_model()
        site = settings.SITE_URL.rstrip("/")
        if User.objects.filter(is_staff=True).exists():
            self.stdout.write(f"Staff panel: {site}/admin/")
        else:
            self.stdout.write(
                f"Staff panel: {site}/admin/ (no staff user yet: `make admin` creates one)"
            )
        if User.objects.filter(username="demo", is_active=True).exists():
            self.stdout.write(
                f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD} at {site}/accounts/login/"
            )
