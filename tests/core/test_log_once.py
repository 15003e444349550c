"""Under `make run` every log line is printed once: Django's own console handler (plain, no
timestamp) is replaced, so "django.*" records reach the root handler only."""

from __future__ import annotations

import logging


def _stream_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """Every StreamHandler a record from `logger` passes through (pytest's own left out)."""
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        found += [
            h
            for h in current.handlers
            if type(h) is logging.StreamHandler  # not pytest's capture handlers
        ]
        current = current.parent if current.propagate else None
    return found


def test_django_and_app_records_reach_exactly_one_console_handler():
    for name in ("django.request", "django.utils.autoreload", "markets.refresh", "urllib3"):
        assert len(_stream_handlers(logging.getLogger(name))) == 1, name


def test_urllib3_retries_are_quiet():
    assert not logging.getLogger("urllib3.connectionpool").isEnabledFor(logging.WARNING)
