"""Writes of economic-calendar events: one upsert per source run, never a delete.

A refresh reads each configured source; a source that fails is reported and its earlier
events stay as they are. What a source returns is upserted on (source, source_key): a moved
release time or a new actual value updates the row, an unchanged one is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date

from django.conf import settings
from django.db import transaction

from insights.calendar.models import EconomicEvent
from insights.calendar.providers import (
    BLSSource,
    CalendarError,
    CalendarSource,
    EventRecord,
    FinnhubEconomicSource,
    FOMCSource,
)

SOURCES: dict[str, type[CalendarSource]] = {
    "bls": BLSSource,
    "fomc": FOMCSource,
    "finnhub": FinnhubEconomicSource,
}
UPDATABLE = [f.name for f in fields(EventRecord) if f.name not in {"source", "source_key"}]
DEMO_SOURCE = "demo"  # seed_demo's events (insights/calendar/demo.py)


@dataclass
class SourceOutcome:
    name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    error: str = ""
    demo_released: int = 0
    deferred: str = ""  # the vendor budget or plan left it for a later run (not a failure)
    not_entitled: bool = False  # ... because the key's plan does not include it (HTTP 403)


@dataclass
class CalendarReport:
    sources: list[SourceOutcome] = field(default_factory=list)

    @property
    def failed_sources(self) -> list[SourceOutcome]:
        return [s for s in self.sources if s.error]


def configured_sources(names: Iterable[str] | None = None) -> list[CalendarSource]:
    """Adapters for `names` (default: CALENDAR_SOURCES); Finnhub only with its key."""
    chosen = list(names) if names else list(settings.CALENDAR_SOURCES)
    unknown = [n for n in chosen if n not in SOURCES]
    if unknown:
        raise ValueError(f"Unknown calendar source(s): {', '.join(unknown)}")
    if not names and not settings.FINNHUB_API_KEY:
        chosen = [n for n in chosen if n != "finnhub"]
    return [SOURCES[n]() for n in chosen]


def events_upsert(*, records: Iterable[EventRecord]) -> tuple[int, int, int]:
    """Insert new events and update changed ones, keyed on (source, source_key).
    Returns (created, updated, unchanged). Atomic."""
    by_key: dict[tuple[str, str], EventRecord] = {}
    for record in records:
        by_key[(record.source, record.source_key)] = record  # last one of a duplicate wins
    if not by_key:
        return 0, 0, 0
    created = updated = unchanged = 0
    with transaction.atomic():
        existing: dict[tuple[str, str], EventRecord] = {}
        for source in {s for s, _ in by_key}:
            keys = [k for s, k in by_key if s == source]
            for i in range(0, len(keys), 500):
                for event in EconomicEvent.objects.select_for_update().filter(
                    source=source, source_key__in=keys[i : i + 500]
                ):
                    existing[(event.source, event.source_key)] = event
        to_create, to_update = [], []
        for key, record in by_key.items():
            event = existing.get(key)
            if event is None:
                to_create.append(
                    EconomicEvent(**{f.name: getattr(record, f.name) for f in fields(record)})
                )
                continue
            changed = False
            for name in UPDATABLE:
                if getattr(event, name) != getattr(record, name):
                    setattr(event, name, getattr(record, name))
                    changed = True
            if changed:
                to_update.append(event)
            else:
                unchanged += 1
        EconomicEvent.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            EconomicEvent.objects.bulk_update(to_update, UPDATABLE, batch_size=500)
        created, updated = len(to_create), len(to_update)
    return created, updated, unchanged


def calendar_refresh(
    *,
    start: date,
    end: date,
    sources: list[CalendarSource],
    dry_run: bool = False,
    log: Callable[[str], None] = lambda message: None,
    progress: Callable[..., Iterator] = lambda items, **kw: iter(items),
) -> CalendarReport:
    """Read each source for [start, end] and upsert what it returned. A failing source is
    recorded in the report; the others go on."""
    report = CalendarReport()
    for source in progress(sources, total=len(sources), desc="calendar sources"):
        outcome = SourceOutcome(source.name)
        report.sources.append(outcome)
        try:
            fetched = source.fetch(start, end)
        except CalendarError as exc:
            # Adapters name themselves in their messages ("bls: ConnectionError …"): the
            # report names the source once.
            message = str(exc).removeprefix(f"{source.name}: ")
            if exc.deferred or exc.not_entitled:  # the shared vendor budget or the plan
                outcome.deferred = message
                outcome.not_entitled = exc.not_entitled
                log(f"{source.name}: not asked this run: {message}")
                continue
            outcome.error = message
            log(f"{source.name}: failed: {outcome.error}")
            continue
        outcome.skipped = fetched.skipped
        for reason in fetched.skipped:
            log(f"skipped {reason}")
        if dry_run:
            outcome.created = len(fetched.records)
            continue
        outcome.created, outcome.updated, outcome.unchanged = events_upsert(records=fetched.records)
        if any(r.actual is not None for r in fetched.records):
            outcome.demo_released = events_demo_release()
    return report


def events_demo_release() -> int:
    """Delete seed_demo's events once a real source with actual figures (Finnhub) stored
    events, as real prices replace demo prices. Returns how many were deleted."""
    deleted, _ = EconomicEvent.objects.filter(source=DEMO_SOURCE).delete()
    return deleted
