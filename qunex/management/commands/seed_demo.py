from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from qunex.demo import DEMO_EMAIL, DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = (
        "Loads demo data (a demo user, then each app's demo rows) when the database has no "
        "users yet; does nothing otherwise. `make run` calls it. --force seeds anyway (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even if users exist.")

    def handle(self, *args, force: bool = False, **options):
        User = get_user_model()
        if User.objects.exists() and not force:
            if User.objects.filter(username="demo").exists():
                self.stdout.write(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
            else:
                self.stdout.write("Database already has users: demo data not loaded.")
            return
        demo_seed(stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded. Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
        )
