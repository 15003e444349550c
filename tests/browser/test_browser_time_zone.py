"""A first visit shows times in the browser's zone (static/js/tz.js + the middleware), and a
zone picked on the profile wins over it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_times_follow_the_browsers_zone_until_the_user_picks_one(browser, live_server):
    user = UserFactory()
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Tokyo")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/accounts/login/")
        # tz.js sets the cookie and reloads once: the page then renders in Tokyo time
        expect(page.locator("html")).to_have_attribute("data-tz-auto", "Asia/Tokyo")
        assert "qunex_browser_tz=Asia/Tokyo" in page.evaluate("document.cookie")
        page.fill("input[name=login]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.auth-form button[type=submit]")
        page.wait_for_url("**/")
        page.goto("/accounts/profile/")
        assert page.locator("#local-time").inner_text().endswith("JST")
        assert page.locator("select[name=timezone]").input_value() == "Asia/Tokyo"

        page.select_option("select[name=timezone]", "Europe/London")
        page.click("button:has-text('Save time zone')")
        page.wait_for_url("**/accounts/profile/")
        local = page.locator("#local-time").inner_text()
        assert local.endswith(("GMT", "BST")), local
        assert page.get_attribute("html", "data-tz-auto") is None
        assert errors == []
    finally:
        context.close()
