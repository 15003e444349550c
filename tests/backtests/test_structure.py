"""The backtests package's shape: no two modules import each other, and the engine imports
light (no scipy.signal, no Django) so a cold start is quick."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import backtests

PACKAGE = Path(backtests.__file__).parent


def _imports(path: Path) -> set[str]:
    """Modules of the backtests package that `path` imports, anywhere in the file (including
    function-local and TYPE_CHECKING imports)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "backtests":
                found.update(f"backtests.{a.name}" for a in node.names)
            elif node.module.startswith("backtests."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("backtests."))
    return found


def test_no_two_modules_import_each_other():
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(("backtests", *path.relative_to(PACKAGE).with_suffix("").parts))
        graph[name.removesuffix(".__init__")] = _imports(path)
    assert graph["backtests.bars"] == set()
    for module in ("backtests.engine", "backtests.stats", "backtests.strategies"):
        assert "backtests.bars" in graph[module], module
    pairs = {
        tuple(sorted((a, b)))
        for a, targets in graph.items()
        for b in targets
        if a in graph.get(b, ())
    }
    assert pairs == set()


def test_the_public_strategy_api_is_importable_from_strategies():
    from backtests.bars import Bars
    from backtests.strategies import Bars as StrategiesBars
    from backtests.strategies import Param, Signal, register  # noqa: F401

    assert StrategiesBars is Bars


def test_importing_and_running_the_engine_does_not_load_scipy_signal_or_django():
    code = (
        "import sys\n"
        "from backtests.engine import run_backtest\n"
        "from backtests.sweep import sweep\n"
        "import numpy as np, pandas as pd\n"
        "df = pd.DataFrame({c: np.linspace(10, 20, 300) for c in ('Open','High','Low','Close')},"
        " index=pd.bdate_range('2020-01-01', periods=300))\n"
        "for name in ('sma_cross', 'ema_cross', 'macd_cross', 'rsi_reversion'):\n"
        "    run_backtest(df, name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('scipy.signal', 'django'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
