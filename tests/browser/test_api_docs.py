from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_the_schema_under_the_strict_csp(page):
    page.goto("/api/docs/")
    page.wait_for_selector(".opblock", timeout=20000)
    assert page.locator(".opblock").count() > 10
    assert page.locator("text=Qunex API").count() >= 1
    assert page.watch.errors == []


def test_browsable_api_renders_without_csp_violations(page):
    page.goto("/api/")
    page.wait_for_selector(".response-info")
    assert "docs" in page.locator(".response-info").inner_text()
    assert page.watch.errors == []


def test_browsable_api_list_pages_render_without_csp_violations(page, django_user_model):
    from tests.factories import PASSWORD, UserFactory

    user = UserFactory()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url("**/")
    for url in ("/api/portfolios/", "/api/transactions/?portfolio=1", "/api/alerts/"):
        page.goto(url)
        page.wait_for_selector(".response-info")
    assert page.watch.errors == []


@pytest.mark.parametrize(("scheme", "saved"), [("dark", None), ("light", "dark")])
def test_api_docs_follow_the_dark_theme(browser, live_server, scheme, saved):
    context = browser.new_context(base_url=live_server.url, color_scheme=scheme)
    page = context.new_page()
    if saved:  # the theme switch's saved choice wins over the system setting
        page.add_init_script(f"localStorage.setItem('qunex-theme', '{saved}')")
    page.goto("/api/docs/")
    page.wait_for_selector(".opblock", timeout=20000)
    look = page.evaluate(
        """() => ({
          body: getComputedStyle(document.body).backgroundColor,
          filter: getComputedStyle(document.querySelector('.swagger-ui')).filter,
        })"""
    )
    assert look["body"] == "rgb(15, 18, 23)", look
    assert "invert" in look["filter"], look
    context.close()


def test_api_docs_stay_light_in_light_mode(browser, live_server):
    context = browser.new_context(base_url=live_server.url, color_scheme="light")
    page = context.new_page()
    page.goto("/api/docs/")
    page.wait_for_selector(".opblock", timeout=20000)
    assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") == (
        "rgb(250, 250, 250)"
    )
    context.close()
