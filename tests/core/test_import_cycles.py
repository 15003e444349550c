"""No two modules of the project import each other, at the top or inside a function (a
function-local import hides a cycle; it does not remove it). Apps depend downward: markets
imports none of portfolios, backtests or insights."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("qunex", "accounts", "markets", "portfolios", "backtests", "insights")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    modules = {
        _module_name(p)
        for app in APPS
        for p in (ROOT / app).rglob("*.py")
        if "migrations" not in p.parts
    }
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = _module_name(path)
            deps: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    for alias in node.names:
                        full = f"{node.module}.{alias.name}"
                        deps.add(full if full in modules else node.module)
                elif isinstance(node, ast.Import):
                    deps.update(alias.name for alias in node.names)
            graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def test_no_two_modules_import_each_other():
    graph = _imports()
    pairs = sorted(
        {tuple(sorted((a, b))) for a, deps in graph.items() for b in deps if a in graph.get(b, ())}
    )
    assert pairs == []


@pytest.mark.parametrize("upper", ["portfolios", "backtests", "insights"])
def test_markets_does_not_import_the_apps_above_it(upper):
    graph = _imports()
    offenders = sorted(
        f"{a} -> {b}"
        for a, deps in graph.items()
        if a.startswith("markets")
        for b in deps
        if b.startswith(upper)
    )
    assert offenders == []
