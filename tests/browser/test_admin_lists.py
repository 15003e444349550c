"""The admin's busiest lists fit a 1280 px screen: no column is cut at the right edge."""

from __future__ import annotations

import pytest
from django.utils import timezone

from qunex.models import JobRun
from tests.factories import PASSWORD
from tests.insights.scores.factories import make_version

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_job_runs_and_model_versions_fit_1280_px(browser, live_server, staff_user):
    start = timezone.now()
    for _ in range(3):
        JobRun.objects.create(
            command="refresh_insider_trades",
            status=JobRun.Status.PARTIAL,
            started_at=start,
            finished_at=start + timezone.timedelta(minutes=3),
            summary="failed: " + ", ".join(f"T{j:04d}" for j in range(200)),
        )
        make_version(metrics={"rank_ic_mean": -0.0123456}, baseline_metrics={"rank_ic_mean": 0.01})
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.fill("input[name=login]", staff_user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.auth-form button[type=submit]")
        page.wait_for_url("**/")
        for url in ("/admin/qunex/jobrun/", "/admin/insights/modelversion/"):
            page.goto(url)
            table = page.locator("#result_list")
            table.wait_for()
            # The list scrolls inside `.results` beside the filter sidebar: every cell must
            # end inside that box, or its right columns are cut.
            box, right = page.evaluate(
                "() => [document.querySelector('#changelist .results').getBoundingClientRect().right,"
                " Math.max(...Array.from(document.querySelectorAll('#result_list th, #result_list td'))"
                ".map((c) => c.getBoundingClientRect().right))]"
            )
            assert right <= box + 0.5 <= 1280.5, (url, right, box)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280, url
    finally:
        context.close()
