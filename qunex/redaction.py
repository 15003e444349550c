"""No secret leaves its setting.

`redact(text)` replaces every configured secret (API keys, tokens, passwords, SECRET_KEY,
the passwords inside DATABASE_URL and REDIS_URL) and every `apikey=...`/`token=...` query
parameter with "[redacted]". It is applied where vendor text becomes an error
(markets.providers.base.ProviderError), where a job writes its `JobRun` row and output
(qunex.jobs), and to every log record by `RedactingFilter`, installed on the console
handler in settings.LOGGING.

The secrets are read from settings once and again after any `setting_changed` (tests
override them); values shorter than 6 characters are not secrets worth a scan ("", "1").
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.signals import setting_changed
from django.dispatch import receiver

MASK = "[redacted]"
MIN_LENGTH = 6
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD)(_|$)")
_NOT_SECRET = {"CACHE_KEY_PREFIX"}
_URL_SETTINGS = ("REDIS_URL", "DATABASE_URL", "SENTRY_DSN")
# apikey=..., api_key=..., token=..., access_token=..., password=... in URLs and bodies.
_PARAM = re.compile(
    r"(?i)\b((?:api[_-]?key|apikey|token|access_token|password|secret)=)[^&\s\"'<>]+"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")

_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()


def configured_secrets() -> Iterator[str]:
    from django.conf import settings

    for name in dir(settings):
        if not name.isupper() or name in _NOT_SECRET:
            continue
        value = getattr(settings, name, None)
        if _SECRET_NAME.search(name) and isinstance(value, str):
            yield value
        elif name in _URL_SETTINGS and isinstance(value, str):
            yield from _url_password(value)
        elif name == "DATABASES" and isinstance(value, dict):
            for db in value.values():
                if isinstance(db, dict) and isinstance(db.get("PASSWORD"), str):
                    yield db["PASSWORD"]
    import os

    for name in _URL_SETTINGS:
        yield from _url_password(os.environ.get(name, ""))


def _url_password(url: str) -> Iterator[str]:
    try:
        password = urlsplit(url).password
    except ValueError:
        return
    if password:
        yield password
        yield unquote(password)


def _secret_pattern() -> re.Pattern[str] | None:
    global _pattern
    with _lock:
        if _pattern is None:
            found = {s for s in configured_secrets() if len(s) >= MIN_LENGTH}
            # Longest first, so a secret that contains another is masked whole.
            alternatives = "|".join(re.escape(s) for s in sorted(found, key=len, reverse=True))
            _pattern = re.compile(alternatives) if alternatives else re.compile(r"(?!x)x")
        return _pattern


@receiver(setting_changed)
def _forget(**kwargs: Any) -> None:
    global _pattern
    with _lock:
        _pattern = None


def redact(text: Any) -> str:
    """`text` (anything; str() is taken) with every secret masked."""
    text = text if isinstance(text, str) else str(text)
    if not text:
        return text
    try:
        pattern = _secret_pattern()
    except Exception:  # settings not configured (a bare script): only the generic masks
        pattern = None
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _PARAM.sub(lambda m: m.group(1) + MASK, text)
    return _BEARER.sub(lambda m: m.group(1) + MASK, text)


class RedactingFilter(logging.Filter):
    """Masks secrets in a log record's message and traceback before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave the record to logging's own error path
            return True
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
