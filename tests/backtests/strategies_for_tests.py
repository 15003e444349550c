"""Strategies that exist only in tests: one that sleeps and one that raises.

`install()` adds them to the registry and `uninstall()` removes them (the `test_strategies`
fixture does both, so other tests see the real registry). The PostgreSQL tests give the
`manage.py process_backtests` subprocesses the settings module
`tests.backtests.settings_with_test_strategies`, which installs them. Nothing here ships in
`backtests/`.
"""

from __future__ import annotations

import os
import time

import numpy as np

from backtests.strategies import Param, Signal, register, unregister

SLEEP_SCALE_ENV = "QUNEX_TEST_SLEEP_SCALE"  # multiplies sleepy's seconds (0 = no sleep)
NAMES = ("test_sleep", "test_raise")


def sleepy(bars, p, allow_short):
    """Sleeps, then holds from the first bar."""
    time.sleep(p["seconds"] * float(os.environ.get(SLEEP_SCALE_ENV, "1")))
    target = np.ones(len(bars), dtype=np.int8)
    target[0] = 0
    return Signal(target=target, warmup=0)


def explosive(bars, p, allow_short):
    """Raises every time."""
    raise RuntimeError(f"strategy exploded (code {p['code']})")


def install() -> None:
    register(
        "test_sleep",
        label="Test: sleep, then hold",
        params=(Param("seconds", float, 0.0, 120.0, 1.0, "Seconds to sleep."),),
        replace=True,
    )(sleepy)
    register(
        "test_raise",
        label="Test: always raises",
        params=(Param("code", int, 0, 9, 0, "Any number."),),
        replace=True,
    )(explosive)


def uninstall() -> None:
    for name in NAMES:
        unregister(name)
