"""A new trader in a real browser: sign up, verify by the emailed link (which signs them in),
see the dashboard.

No console errors and no CSP violations on any page along the way.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

EMAIL = "browser.trader@example.com"
PASSWORD = "a long and unusual passphrase 7"


def test_sign_up_verify_log_in_and_see_the_dashboard(
    transactional_db, page, live_server, mailoutbox
):
    page.goto("/accounts/signup/")
    assert page.title().startswith("Signup")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url("**/accounts/confirm-email/")
    assert page.locator("h1").inner_text() == "Verify Your Email Address"

    # The live server runs in this process, so the email is in the test outbox.
    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/[^/\s]+/", mailoutbox[0].body).group(0)
    page.goto(link)
    assert EMAIL in page.locator(".auth-box").inner_text()
    page.click("form.auth-form button[type=submit]")
    # Confirmed in the browser that signed up: signed in at once, on the dashboard.
    page.wait_for_url(f"{live_server.url}/")
    assert "You have confirmed" in page.locator(".messages").inner_text()
    assert page.locator('.nav a[aria-current="page"]').inner_text() == "Dashboard"
    # The account link names the user: the email on wide screens, "Account" (with the email
    # as its title) where the top bar is tight.
    account = page.locator(".account a[href='/accounts/profile/']")
    assert account.get_attribute("title") == EMAIL and account.is_visible()

    account.click()
    page.wait_for_url("**/accounts/profile/")
    assert page.locator("h1").inner_text() == "Your account"

    assert page.watch.errors == []
