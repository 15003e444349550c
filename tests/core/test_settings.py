"""Settings come from the environment and refuse bad values by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IGNORED = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
CLEAN = {k: v for k, v in os.environ.items() if k not in IGNORED}


def run_settings(env: dict[str, str], code: str = "pass") -> subprocess.CompletedProcess:
    script = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='qunex.settings'\n"
        "import django; django.setup()\nfrom django.conf import settings as s\n" + code
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**CLEAN, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_unset_means_sqlite_and_local_memory():
    out = run_settings(
        {}, "print(s.DATABASES['default']['ENGINE']); print(s.CACHES['default']['BACKEND'])"
    )
    assert out.returncode == 0, out.stderr
    engine, cache = out.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert cache == "django.core.cache.backends.locmem.LocMemCache"


def test_the_laptop_sqlite_database_uses_write_ahead_logging(tmp_path):
    """Pages read while a job writes, and a commit waits for the disk once, not twice."""
    out = run_settings(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
        "from django.db import connection\nc = connection.cursor()\n"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], "
        "c.execute('PRAGMA synchronous').fetchone()[0])",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["wal", "1"]  # 1 = NORMAL


def test_database_url_selects_postgresql_and_redis_url_the_redis_cache():
    out = run_settings(
        {
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/qunex",
            "REDIS_URL": "redis://127.0.0.1:6379/1",
        },
        "print(s.DATABASES['default']['ENGINE']); print(s.CACHES['default']['BACKEND'])",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "django.db.backends.postgresql",
        "qunex.cache.ResilientRedisCache",
    ]


def test_secret_key_is_required_when_debug_is_off():
    out = run_settings({"DEBUG": "false"})
    assert out.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in out.stderr


def test_unknown_boolean_names_the_variable():
    out = run_settings({"DEBUG": "maybe"})
    assert out.returncode != 0
    assert "DEBUG must be a boolean" in out.stderr
    assert "'maybe'" in out.stderr


def test_non_integer_port_names_the_variable():
    out = run_settings({"MAIL_PORT": "twenty-five"})
    assert out.returncode != 0
    assert "MAIL_PORT must be an integer" in out.stderr


def test_vendor_keys_and_mail_come_from_the_environment():
    env = {
        "POLYGON_API_KEY": "pk",
        "FINNHUB_API_KEY": "fk",
        "ALPHA_VANTAGE_API_KEY": "ak",
        "NEWSAPI_KEY": "nk",
        "ANTHROPIC_API_KEY": "sk",
        "SEC_USER_AGENT": "Qunex ops@example.com",
        "MAIL_HOST": "smtp.example.com",
        "MAIL_PORT": "2525",
        "MAIL_USERNAME": "mailer",
        "MAIL_PASSWORD": "secret",
        "ALLOWED_HOSTS": "qunex.example.com,www.qunex.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://qunex.example.com",
    }
    code = (
        "print(s.POLYGON_API_KEY, s.FINNHUB_API_KEY, s.ALPHA_VANTAGE_API_KEY, s.NEWSAPI_KEY, "
        "s.ANTHROPIC_API_KEY, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, "
        "s.EMAIL_BACKEND.rsplit('.',2)[-2], ','.join(s.ALLOWED_HOSTS), ','.join(s.CSRF_TRUSTED_ORIGINS)); "
        "print(s.SEC_USER_AGENT)"
    )
    out = run_settings(env, code)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    assert first.split() == [
        "pk",
        "fk",
        "ak",
        "nk",
        "sk",
        "smtp.example.com",
        "2525",
        "mailer",
        "secret",
        "smtp",
        "qunex.example.com,www.qunex.example.com",
        "https://qunex.example.com",
    ]
    assert second == "Qunex ops@example.com"


def test_env_example_lists_every_variable_the_settings_read():
    import re

    settings_src = (ROOT / "qunex" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z0-9_]+)"', settings_src))
    documented = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line
    }
    assert read - documented == set(), "add these to .env.example"


def test_check_deploy_passes_with_production_like_environment():
    env = {
        "DEBUG": "false",
        "SECRET_KEY": "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789" * 2,
        "ALLOWED_HOSTS": "qunex.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://qunex.example.com",
    }
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**CLEAN, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("hash_seed", ["1", "2", "3"])
def test_migrations_match_the_models_in_every_app(hash_seed):
    """Run in fresh interpreters with different hash seeds, so a constraint built from a
    set (whose order follows string hashing) cannot slip through as 'no changes'."""
    out = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env={**CLEAN, "PYTHONHASHSEED": hash_seed},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
