"""No two modules of markets/ import each other (module-level or inside a function), and
markets imports no other app (issue 14 §7)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_no_two_markets_modules_import_each_other():
    files = [p for p in (ROOT / "markets").rglob("*.py") if "migrations" not in p.parts]
    graph = {_module(p): _imports(p) for p in files}
    pairs = sorted(
        (a, b) for a in graph for b in graph if a < b and b in graph[a] and a in graph[b]
    )
    assert pairs == []


def test_markets_imports_no_other_app():
    others = ("portfolios", "backtests", "insights", "accounts")
    for path in (ROOT / "markets").rglob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[0] in others}
        assert not bad, (path, bad)
