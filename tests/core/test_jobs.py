from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qunex.jobs import Job, JobCommand, JobFailed
from qunex.models import JobRun

pytestmark = pytest.mark.django_db


class _Command(JobCommand):
    help = "test job"
    outcome = "ok"

    def run(self, job: Job, **options):
        for item in job.progress(["a", "b", "c"], total=3):
            job.count("processed")
            if self.outcome == "partial" and item == "b":
                job.count("failed")
        if self.outcome == "fail":
            raise JobFailed("every ticker failed")
        if self.outcome == "crash":
            raise ValueError("boom")
        return "3 items"


def _run(outcome: str) -> tuple[str, JobRun]:
    cmd = _Command()
    cmd.outcome = outcome
    cmd.__module__ = "markets.management.commands.example_job"
    out = io.StringIO()
    call_command(cmd, verbosity=1, stdout=out)
    return out.getvalue(), JobRun.objects.get()


def test_success_records_a_run_and_prints_one_summary_line():
    out, run = _run("ok")
    assert run.command == "example_job"
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.counts == {"processed": 3}
    assert run.finished_at >= run.started_at
    assert out.strip().splitlines()[-1].startswith("example_job: succeeded in ")
    assert "processed 3; 3 items" in out


def test_items_that_failed_make_the_run_partial_but_exit_zero():
    _, run = _run("partial")
    assert run.status == JobRun.Status.PARTIAL
    assert run.counts == {"processed": 3, "failed": 1}


def test_a_failed_job_exits_non_zero_and_keeps_the_error():
    with pytest.raises(CommandError, match="every ticker failed"):
        _run("fail")
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.FAILED
    assert run.error == "every ticker failed"


def test_an_unexpected_exception_is_recorded_with_its_traceback():
    with pytest.raises(CommandError):
        _run("crash")
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.FAILED
    assert "ValueError: boom" in run.error
    assert "Traceback" in run.error


def test_job_runs_are_visible_in_the_admin(client, staff_user):
    _run("partial")
    client.force_login(staff_user)
    response = client.get("/admin/qunex/jobrun/?status__exact=partial")
    assert response.status_code == 200
    assert b"example_job" in response.content


def test_a_long_summary_is_stored_whole():
    """JobRun.summary is text: a run that names many failed tickers keeps its whole summary
    (a 321-character one failed on PostgreSQL when it was varchar(300))."""
    note = "failed: " + ", ".join(f"T{i:04d}" for i in range(120))
    run = JobRun.objects.create(command="x", started_at="2026-01-01T00:00:00Z", summary=note)
    run.refresh_from_db()
    assert len(run.summary) > 321
    assert run.summary == note


def test_seed_demo_records_a_job_run(user, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    run = JobRun.objects.get(command="seed_demo")
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.counts == {"skipped": 1}
    assert "database already has users: demo data not loaded" in run.summary
    lines = out.getvalue().strip().splitlines()
    assert lines[0] == run.summary  # the one summary line, then where the staff panel is
    assert lines[1:] == [
        "Staff panel: http://127.0.0.1:8000/admin/ (no staff user yet: `make admin` creates one)"
    ]
