"""Demo data for a laptop with no vendor keys: a demo user, then each app's demo rows.

Each app that has demo data exposes `<app>.demo.seed(user, stdout)`; they run in the order
below (markets first: everything else reads its prices).
"""

from __future__ import annotations

import importlib
from typing import TextIO

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction

DEMO_EMAIL = "demo@qunex.local"
DEMO_PASSWORD = "qunex-demo-2026"  # noqa: S105 - printed on purpose for the local demo
DEMO_APPS = ["markets", "portfolios", "backtests", "insights"]


@transaction.atomic
def demo_user_create():
    User = get_user_model()
    user, created = User.objects.get_or_create(username="demo", defaults={"email": DEMO_EMAIL})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=DEMO_EMAIL, primary=True, verified=True)
    return user


def demo_seed(*, stdout: TextIO) -> None:
    user = demo_user_create()
    for app in DEMO_APPS:
        try:
            module = importlib.import_module(f"{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.demo":
                raise
            continue
        module.seed(user=user, stdout=stdout)
