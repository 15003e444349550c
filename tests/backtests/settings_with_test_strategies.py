"""qunex.settings plus the test-only strategies, for the processor subprocesses of the
PostgreSQL tests (`manage.py process_backtests --settings=tests.backtests.settings_with_test_strategies`)."""

from qunex.settings import *  # noqa: F403
from tests.backtests import strategies_for_tests

strategies_for_tests.install()
