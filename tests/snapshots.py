"""The database `seed_demo` leaves, seeded for real once per test run and copied in after.

The whole-product sweeps (tests/core: the API contract, hostile parameters and paths, the
number rule) each need the full demo (51 tickers of five years of bars, portfolios,
backtests, news, 60 days of AI scores): about 8 s of CPU a seed, four or five times a run.
The first test to ask seeds it for real inside its own transaction and records the rows
every seeded table gained; the others, in any xdist worker, copy those rows into their own
(empty) tables inside their transaction, which rolls back as usual. The seed itself is
tested where it is written (tests/*/test_demo.py, tests/browser/test_first_run.py), which
seed for real.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import io
import pickle
from pathlib import Path

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection


@contextlib.contextmanager
def file_lock(path: Path):
    """One holder at a time across this run's xdist workers."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _models() -> list:
    """Every table Django manages, once each (m2m tables included)."""
    seen, models = set(), []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in seen:
            continue
        seen.add(meta.db_table)
        models.append(model)
    return models


def _counts() -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in _models()}


def _columns(model) -> list[str]:
    return [f.column for f in model._meta.local_concrete_fields]


def _capture(before: dict[str, int]) -> list[tuple[str, list[str], object]]:
    """The rows of each table the seed added to; it must have started empty."""
    tables = []
    for model in _models():
        label, table = model._meta.label, model._meta.db_table
        if model._base_manager.count() == before[label]:
            continue
        assert before[label] == 0, f"{label} had rows before the seed: cannot snapshot it"
        quoted = ", ".join(connection.ops.quote_name(c) for c in _columns(model))
        name = connection.ops.quote_name(table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {name} ({quoted}) TO STDOUT") as copy:
                    rows = b"".join(bytes(chunk) for chunk in copy)
            else:
                cursor.execute(f"SELECT {quoted} FROM {name}")  # noqa: S608 (Django's names)
                rows = cursor.fetchall()
        tables.append((label, _columns(model), rows))
    return tables


def _restore(tables: list[tuple[str, list[str], object]]) -> None:
    models = []
    for label, columns, rows in tables:
        model = apps.get_model(label)
        models.append(model)
        assert not model._base_manager.exists(), f"{label} is not empty: cannot copy the demo in"
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        name = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
                    copy.write(rows)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {name} ({quoted}) VALUES ({marks})", rows)  # noqa: S608
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)  # the next row of each table gets a fresh id


def seed_demo_database(shared: Path) -> None:
    """The demo seed in this test's database: real the first time in this run, copied after."""
    from qunex.demo import demo_seed

    path = shared / f"demo-{connection.vendor}-{dt.date.today().isoformat()}.pickle"
    with file_lock(shared / "demo.lock"):
        if path.exists():
            # Written by a worker of this same run, in its own temp folder.
            _restore(pickle.loads(path.read_bytes()))  # noqa: S301
            return
        before = _counts()
        demo_seed(stdout=io.StringIO())
        path.write_bytes(pickle.dumps(_capture(before)))
