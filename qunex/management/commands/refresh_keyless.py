"""The refreshes that need no key, for a first run: the official news feeds (Federal Reserve,
SEC, BLS) and the BLS and FOMC release schedules. `make run` starts it in the background once
the server answers (`--wait-for`).

1. With `--wait-for URL`, wait (up to --wait seconds) until the server answers.
2. Check the network: one TCP connection to the first feed's host. Without it, say so in one
   line and stop (exit 0: a laptop offline is not a failure).
3. Run `refresh_news` with the vendor keys masked (only the keyless feeds are read) and
   `refresh_calendar --sources bls,fomc`; each prints its own summary line. A failed one is
   reported in one line and the other still runs.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

PREFIX = "refresh_keyless:"


def server_answers(url: str, *, wait: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer means the server is up
        except (OSError, ValueError):
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)


def network_reachable(url: str, *, timeout: float = 3.0) -> tuple[bool, str]:
    """One TCP connection to `url`'s host: (reachable, the error's name if not)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return True, ""
    except OSError as exc:
        return False, type(exc).__name__


class Command(BaseCommand):
    help = (
        "Reads the sources that need no key: the official news feeds and the BLS and FOMC "
        "release schedules. Offline, says so in one line and exits 0. `make run` starts it "
        "in the background with --wait-for, after the server answers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--wait-for", metavar="URL", help="Wait until this URL answers.")
        parser.add_argument("--wait", type=float, default=60, help="Seconds to wait (60).")

    def handle(self, *args: Any, wait_for: str | None = None, wait: float = 60, **options):
        if wait_for and not server_answers(wait_for, wait=wait):
            self.stdout.write(f"{PREFIX} {wait_for} did not answer in {wait:.0f}s; skipped.")
            return
        probe = settings.CALENDAR_FOMC_URL
        reachable, error = network_reachable(probe)
        if not reachable:
            self.stdout.write(
                f"{PREFIX} no network ({error} for {urlsplit(probe).hostname}): official news "
                "and the BLS/FOMC schedules not fetched; the demo data stays."
            )
            return
        self.stdout.write(f"{PREFIX} network reachable: fetching official news and schedules.")
        verbosity = options.get("verbosity", 1)
        keyless = override_settings(NEWSAPI_KEY="", POLYGON_API_KEY="", FINNHUB_API_KEY="")
        for name, kwargs in (
            ("refresh_news", {}),
            ("refresh_calendar", {"sources": ["bls", "fomc"]}),
        ):
            try:
                with keyless:
                    call_command(name, stdout=self.stdout, verbosity=verbosity, **kwargs)
            except CommandError as exc:
                self.stdout.write(f"{PREFIX} {str(exc).splitlines()[0]}")
