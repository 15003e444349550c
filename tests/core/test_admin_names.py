"""The staff admin reads as English, and its busiest lists keep to a 1280 px screen."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.utils import timezone

from qunex.models import JobRun
from tests.insights.scores.factories import make_version

pytestmark = pytest.mark.django_db


def test_model_and_field_names_read_as_english():
    names = {
        m._meta.label: (m._meta.verbose_name, m._meta.verbose_name_plural)
        for m in admin.site._registry
    }
    assert names["insights.ArticleAnalysis"] == ("article analysis", "article analyses")
    assert names["insights.AIScore"] == ("AI score", "AI scores")
    for model in admin.site._registry:
        plural = str(model._meta.verbose_name_plural)
        assert not plural.endswith("ss") or plural.endswith("sses"), plural
        for field in model._meta.fields:
            assert not str(field.verbose_name).startswith("is "), (model, field.name)


def test_admin_index_and_filters_say_ai_scores_article_analyses_and_demo(client, staff_user):
    client.force_login(staff_user)
    index = client.get("/admin/").content.decode()
    assert "AI scores" in index and "Article analyses" in index and "Ai scores" not in index
    page = client.get("/admin/insights/aiscore/").content.decode()
    assert "By demo" in page and "By is demo" not in page


def _cells(html: str) -> list[str]:
    """The text of each cell of the first result row."""
    row = re.search(r"<tbody>\s*<tr[^>]*>(.*?)</tr>", html, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
    ]


def test_job_runs_list_has_short_columns_and_the_whole_summary_as_a_tooltip(client, staff_user):
    start = timezone.now()
    summary = "failed: " + ", ".join(f"T{i:04d}" for i in range(120))
    JobRun.objects.create(
        command="update_prices",
        status=JobRun.Status.PARTIAL,
        started_at=start,
        finished_at=start + timezone.timedelta(seconds=42.25),
        summary=summary,
    )
    client.force_login(staff_user)
    html = client.get("/admin/qunex/jobrun/").content.decode()
    cells = _cells(html)
    assert "42.2 s" in cells or "42.3 s" in cells
    assert max(len(c) for c in cells) <= 80, cells
    assert f'title="{summary}"' in html


def test_model_versions_list_has_short_columns(client, staff_user):
    make_version(metrics={"rank_ic_mean": -0.0123456}, baseline_metrics={"rank_ic_mean": 0.004})
    client.force_login(staff_user)
    cells = _cells(client.get("/admin/insights/modelversion/").content.decode())
    assert "\u22120.0123" in cells and "0.0040" in cells
    assert "2024-01-02" in cells
    assert max(len(c) for c in cells) <= 25, cells
