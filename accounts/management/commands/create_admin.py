from __future__ import annotations

import getpass
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts.services import admin_user_create


class Command(BaseCommand):
    help = (
        "Creates a staff superuser (or promotes the account with that email) whose email "
        "counts as verified, so the first admin login goes straight in. Asks for the email "
        "and password on a terminal; `make admin` runs it. Running it again for the same "
        "email sets the new password and changes nothing else."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", help="The admin's email (asked for when omitted).")
        parser.add_argument(
            "--password",
            help="The password (asked for, hidden, when omitted; avoid it on shared machines).",
        )

    def handle(self, *args: Any, email: str | None = None, password: str | None = None, **kw):
        interactive = sys.stdin.isatty()
        if not email:
            if not interactive:
                raise CommandError("--email is required when not run on a terminal.")
            email = input("Admin email: ").strip()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"email: {exc.messages[0]} ({email!r})") from exc
        if password is None:
            if not interactive:
                raise CommandError("--password is required when not run on a terminal.")
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("password: the two passwords differ; nothing was changed.")
        try:
            user, created = admin_user_create(email=email, password=password)
        except ValidationError as exc:
            raise CommandError("password: " + " ".join(exc.messages)) from exc
        admin = settings.SITE_URL.rstrip("/") + "/admin/"
        what = "created" if created else "updated (now staff, email verified)"
        self.stdout.write(f"Admin {user.email} {what}; sign in at {admin}")
