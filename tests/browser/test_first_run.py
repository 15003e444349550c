"""A first run in a real browser, on a fresh database after `seed_demo`: every feature has
something to show and says it is demo data; a visitor never sees a shell command or an
environment variable; `make admin`'s command then an admin login reaches the staff panel with
no email step. No console errors or CSP violations along the way.
"""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.browser

ADMIN_EMAIL = "first.admin@example.com"
ADMIN_PASSWORD = "a long and unusual admin passphrase 9"
ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def env_names() -> list[str]:
    """Every variable .env.example lists that could not be an ordinary word (has a "_")."""
    names = re.findall(r"^([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE)
    return [n for n in names if "_" in n]


def _no_commands_or_settings(page, names: list[str]) -> None:
    html = page.content()
    assert "manage.py" not in html, page.url
    shown = [n for n in names if n in html]
    assert not shown, f"{page.url} shows {shown}"


def test_first_run_shows_every_feature_as_demo_and_the_admin_opens(
    transactional_db, page, live_server, settings
):
    settings.NEWSAPI_KEY = settings.POLYGON_API_KEY = settings.FINNHUB_API_KEY = ""
    settings.ALPHA_VANTAGE_API_KEY = settings.ANTHROPIC_API_KEY = ""
    call_command("seed_demo", stdout=StringIO())
    names = env_names()
    assert "SEC_USER_AGENT" in names and "FINNHUB_API_KEY" in names

    # News: stories covered by several publishers, each marked demo.
    page.goto("/news/")
    rows = page.locator(".news-row")
    assert rows.count() >= 8
    assert "Also reported by" in page.locator(".news-list").inner_text()
    assert rows.locator(".badge.demo").count() == rows.count()
    _no_commands_or_settings(page, names)

    # An article with its full (demo) analysis: impact, per-ticker reasons, quoted evidence.
    page.click("text=Apple beats quarterly revenue estimates as services sales climb")
    page.wait_for_url("**/news/*/")
    analysis = page.locator(".news-analysis")
    assert "Demo analysis, not from Claude" in analysis.inner_text()
    assert "Impact 3" in analysis.inner_text()
    assert "Services revenue rose 14% to a record" in analysis.locator("table").inner_text()
    assert analysis.locator("blockquote").count() == 2
    assert page.locator("h1 .badge.demo").is_visible()
    assert "Also reported by" in page.locator("main").inner_text()
    _no_commands_or_settings(page, names)

    # The calendar: past releases with a surprise, marked demo.
    page.goto("/calendar/?range=past")
    surprise = page.locator(".cal-table .surprise").first
    assert surprise.is_visible() and re.search(r"\d", surprise.inner_text())
    assert page.locator(".cal-table .badge.demo").count() >= 5
    page.goto("/calendar/")
    assert "FOMC" in page.locator(".cal-table").inner_text()
    _no_commands_or_settings(page, names)

    # Insider trades: the cluster buy and the rows, marked demo.
    page.goto("/insiders/")
    clusters = page.locator(".cluster-list").first
    assert "DIS" in clusters.inner_text() and "3 insiders" in clusters.inner_text()
    assert clusters.locator(".badge.demo").is_visible()
    table = page.locator(".insider-table")
    assert "Amended" in table.inner_text() and "Derivative" in table.inner_text()
    assert table.locator(".badge.demo").count() >= 5
    _no_commands_or_settings(page, names)

    # The AI track record with its charts, and a stock's score history, marked demo.
    page.goto("/ai-scores/track-record/")
    assert page.locator("h1 .badge.demo").is_visible()
    assert page.locator("main svg").count() >= 1
    assert "whose 20 sessions have passed" in page.locator("main").inner_text()
    _no_commands_or_settings(page, names)
    page.goto("/stocks/AAPL/")
    assert page.locator("polyline").count() >= 1
    _no_commands_or_settings(page, names)
    for url in ("/", "/stocks/", "/ai-scores/", "/backtests/"):
        page.goto(url)
        _no_commands_or_settings(page, names)
    page.goto("/stocks/NOPE/")  # the not-found page: its 404 is the one console error
    _no_commands_or_settings(page, names)
    assert [e for e in page.watch.errors if "404" not in e] == []
    page.watch.errors.clear()

    # `make admin` runs create_admin; its user signs in to the staff panel, no email step.
    call_command("create_admin", email=ADMIN_EMAIL, password=ADMIN_PASSWORD, stdout=StringIO())
    page.goto("/admin/")
    page.wait_for_url("**/accounts/login/**")
    page.fill("input[name=login]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert "Qunex staff panel" in page.locator("body").inner_text()

    assert page.watch.errors == []
