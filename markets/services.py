"""Writes to market data: bulk upserts of bars, quotes, tickers and corporate actions, and the
CSV import on top of them. The vendor runs that feed them are in markets.refresh.

Every upsert is atomic and counts what it did (created / updated / unchanged); loading the
same records twice changes nothing the second time. Records come from markets.providers
(plain dataclasses), the CSV importer or the demo generator, never from models.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any, TypeVar

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from markets.importers import SYMBOL
from markets.models import CorporateAction, DailyBar, Quote, Ticker
from markets.providers import Bar, Dividend, QuoteRecord, Split, TickerInfo

logger = logging.getLogger(__name__)

T = TypeVar("T")

PRICE_PLACES = Decimal("0.000001")  # DailyBar/Quote prices are numeric(18, 6)
PRICE_LIMIT = Decimal("1e12")  # numeric(18, 6) holds < 10**12
CHUNK = 100_000  # bars per staging round trip on PostgreSQL
SQLITE_CHUNK = 50_000
DEMO_SOURCE = "demo"
BAR_FIELDS = ("open", "high", "low", "close", "adj_close", "volume", "source")
QUOTE_FIELDS = ("price", "change", "change_pct", "volume", "as_of", "source")
TICKER_FIELDS = ("name", "exchange", "sector", "industry", "market_cap", "currency")


class IngestError(ValueError):
    """Records that cannot be stored as they are; `problems` names each one. Nothing of the
    batch was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(shown + more)


@dataclass(frozen=True, slots=True)
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )

    @property
    def written(self) -> int:
        return self.created + self.updated


# --- bars ----------------------------------------------------------------------------------


def bars_upsert(*, bars: Iterable[Bar]) -> UpsertResult:
    """Insert new (ticker, date) bars, update those whose values differ, leave the rest.

    1. Every bar is checked first (known symbol, a date, positive finite prices that fit
       numeric(18, 6), high >= low, volume >= 0, a source); any problem raises IngestError
       naming the symbol and date, and nothing is written. The database rounds prices to 6
       places and compares them rounded, so a reload of the same bars is unchanged.
    2. A later bar for the same (ticker, date) replaces an earlier one in the same call.
    3. PostgreSQL: bars dated outside the span each ticker already holds (a first load, the
       days after the last bar) cannot conflict and are COPYed straight into the table; the
       rest go through a staging table and one INSERT ... ON CONFLICT DO UPDATE ... WHERE the
       values differ per chunk. SQLite: the same upsert as multi-row INSERTs with RETURNING.
    All of it in one transaction.
    """
    rows = _bar_rows(bars)
    if not rows:
        return UpsertResult()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _bars_write_postgres(rows)
        result = UpsertResult()
        for chunk in _chunks(rows, SQLITE_CHUNK):
            result += _bars_write_sqlite(chunk)
        return result


BarRow = tuple[int, date, Decimal, Decimal, Decimal, Decimal, Decimal | None, int, str]


def _bar_rows(bars: Iterable[Bar]) -> list[BarRow]:
    """Validated rows keyed by (ticker_id, date), the last bar winning."""
    bars = list(bars)
    ids = _ticker_ids({b.symbol for b in bars})
    problems: list[str] = []
    unknown = sorted({b.symbol for b in bars} - ids.keys())
    if unknown:
        problems.append(f"unknown ticker(s): {', '.join(unknown)}")
    rows: dict[tuple[int, date], BarRow] = {}
    for bar in bars:
        ticker_id = ids.get(bar.symbol)
        if ticker_id is None:
            continue
        row = _fast_row(bar, ticker_id)
        if row is None:
            try:
                row = _checked_row(bar, ticker_id)
            except (ValueError, TypeError, InvalidOperation) as exc:
                problems.append(f"{bar.symbol} {bar.date}: {exc}")
                continue
        rows[(ticker_id, bar.date)] = row
    if problems:
        raise IngestError(problems)
    return list(rows.values())


def _fast_row(bar: Bar, ticker_id: int) -> BarRow | None:
    """The common case in a few comparisons (a million bars per load): a date, Decimal prices
    in range, high >= low, a whole volume. None sends the bar to `_checked_row`, which says
    what is wrong or converts other number types. (Checking column by column with min/max
    was measured slower: as many Decimal comparisons, and a million more tuples.)"""
    o, h, lo, c, adj, volume = bar.open, bar.high, bar.low, bar.close, bar.adj_close, bar.volume
    try:
        if (
            type(bar.date) is date
            and type(o) is Decimal
            and type(h) is Decimal
            and type(lo) is Decimal
            and type(c) is Decimal
            and 0 < lo <= h < PRICE_LIMIT
            and 0 < o < PRICE_LIMIT
            and 0 < c < PRICE_LIMIT
            and (adj is None or (type(adj) is Decimal and 0 < adj < PRICE_LIMIT))
            and type(volume) is int
            and volume >= 0
            and type(bar.source) is str
            and 0 < len(bar.source) <= 20
        ):
            return (ticker_id, bar.date, o, h, lo, c, adj, volume, bar.source)
    except InvalidOperation:  # NaN compared
        pass
    return None


def _checked_row(bar: Bar, ticker_id: int) -> BarRow:
    if not isinstance(bar.date, date) or isinstance(bar.date, datetime):
        raise ValueError(f"date {bar.date!r} is not a date")
    o, h = _price(bar.open, "open"), _price(bar.high, "high")
    lo, c = _price(bar.low, "low"), _price(bar.close, "close")
    adj = None if bar.adj_close is None else _price(bar.adj_close, "adj_close")
    if h < lo:
        raise ValueError(f"high {h} is below low {lo}")
    if bar.volume is None or int(bar.volume) < 0 or int(bar.volume) != bar.volume:
        raise ValueError(f"volume {bar.volume!r} is not a count")
    if not isinstance(bar.source, str) or not 0 < len(bar.source) <= 20:
        raise ValueError(f"source {bar.source!r} must be 1-20 characters")
    return (ticker_id, bar.date, o, h, lo, c, adj, int(bar.volume), bar.source)


def _price(value: Any, name: str) -> Decimal:
    """A positive Decimal below 10^12 (numeric(18, 6)); the database rounds it to 6 places."""
    if value is None:
        raise ValueError(f"{name} is missing")
    if type(value) is not Decimal:
        value = Decimal(str(value) if isinstance(value, float) else value)
    if not (value.is_finite() and 0 < value < PRICE_LIMIT):
        raise ValueError(f"{name} {value} is not a positive price below 10^12")
    return value


_STAGE = "markets_bar_stage"
_COLUMNS = ", ".join(("ticker_id", "date", *BAR_FIELDS))
_SPANS_SQL = """
SELECT t.id,
    (SELECT min(date) FROM markets_dailybar WHERE ticker_id = t.id),
    (SELECT max(date) FROM markets_dailybar WHERE ticker_id = t.id)
FROM unnest(%s::bigint[]) AS t (id)
"""
_UPSERT_SQL = f"""
WITH upserted AS (
    INSERT INTO markets_dailybar AS d ({_COLUMNS})
    SELECT {_COLUMNS} FROM {_STAGE}
    ON CONFLICT (ticker_id, date) DO UPDATE SET
        {", ".join(f"{f} = EXCLUDED.{f}" for f in BAR_FIELDS)}
    WHERE ({", ".join(f"d.{f}" for f in BAR_FIELDS)})
        IS DISTINCT FROM ({", ".join(f"EXCLUDED.{f}" for f in BAR_FIELDS)})
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
"""  # noqa: S608 - only our own constant names are interpolated


def _bars_write_postgres(rows: list[BarRow]) -> UpsertResult:
    """1. One query for the span of dates each ticker already holds (two index probes per
          ticker). A bar outside its ticker's span is new.
    2. The new bars: one COPY straight into markets_dailybar, in a savepoint. If another
       transaction stored one of those days meanwhile, the unique constraint refuses the
       COPY, the savepoint is rolled back and those bars join the others.
    3. The others: COPY into a staging table (dropped at commit), then one upsert per chunk
       that skips rows whose values are already stored; `xmax = 0` tells an inserted row
       from an updated one."""
    from psycopg import errors as pg_errors

    with connection.cursor() as cursor:
        cursor.execute(_SPANS_SQL, [sorted({row[0] for row in rows})])
        spans = {tid: (first, last) for tid, first, last in cursor.fetchall() if first}
    new, rest = _split_by_span(rows, spans)
    result = UpsertResult()
    if new:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                _copy(cursor, "markets_dailybar", new)
            result = UpsertResult(created=len(new))
        except (IntegrityError, pg_errors.UniqueViolation):
            rest = rows  # a concurrent writer got there first: upsert them all
    for chunk in _chunks(rest, CHUNK):
        result += _bars_stage_upsert(chunk)
    return result


def _split_by_span(
    rows: list[BarRow], spans: dict[int, tuple[date, date]]
) -> tuple[list[BarRow], list[BarRow]]:
    """(bars dated outside their ticker's stored span, bars inside it)."""
    if not spans:
        return rows, []
    new: list[BarRow] = []
    inside: list[BarRow] = []
    nothing = (date.max, date.min)
    for row in rows:
        first, last = spans.get(row[0], nothing)
        (inside if first <= row[1] <= last else new).append(row)
    return new, inside


def _copy(cursor: Any, table: str, rows: Iterable[BarRow]) -> None:
    with cursor.copy(f"COPY {table} ({_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _bars_stage_upsert(rows: Sequence[BarRow]) -> UpsertResult:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_STAGE}")
        cursor.execute(
            f"CREATE TEMP TABLE {_STAGE} (ticker_id bigint NOT NULL, date date NOT NULL, "
            "open numeric NOT NULL, high numeric NOT NULL, low numeric NOT NULL, "
            "close numeric NOT NULL, adj_close numeric, volume bigint NOT NULL, "
            "source varchar(20) NOT NULL) ON COMMIT DROP"
        )
        _copy(cursor, _STAGE, rows)
        cursor.execute(_UPSERT_SQL)
        created, updated = cursor.fetchone()
        cursor.execute(f"DROP TABLE {_STAGE}")
    return UpsertResult(created, updated, len(rows) - created - updated)


_SQLITE_UPSERT = f"""
INSERT INTO markets_dailybar (ticker_id, date, {", ".join(BAR_FIELDS)}) VALUES {{values}}
ON CONFLICT (ticker_id, date) DO UPDATE SET
    {", ".join(f"{f} = excluded.{f}" for f in BAR_FIELDS)}
WHERE ({", ".join(f"markets_dailybar.{f}" for f in BAR_FIELDS)})
    IS NOT ({", ".join(f"excluded.{f}" for f in BAR_FIELDS)})
RETURNING id
"""  # noqa: S608 - only our own constant names and placeholders are interpolated


def _bars_write_sqlite(rows: list[BarRow]) -> UpsertResult:
    """Multi-row INSERT ... ON CONFLICT DO UPDATE ... WHERE the values differ, RETURNING the
    ids it touched: ids above the table's max id before the call are new rows (SQLite's
    AUTOINCREMENT never reuses one), the others were updated.

    Raw SQL rather than bulk_create(update_conflicts=True): building 160k model instances
    took 12 s for the demo seed, this takes under 2 s, and bulk_create cannot skip unchanged
    rows nor count them."""
    width = 2 + len(BAR_FIELDS)
    per_statement = max(1, connection.features.max_query_params // width)
    placeholders = "(" + ", ".join(["%s"] * width) + ")"
    touched: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM markets_dailybar")
        (before,) = cursor.fetchone()
        for batch in _chunks(rows, per_statement):
            params = [v for row in batch for v in row]  # Django adapts Decimal and date
            cursor.execute(
                _SQLITE_UPSERT.format(values=", ".join([placeholders] * len(batch))), params
            )
            touched.extend(pk for (pk,) in cursor.fetchall())
    created = sum(pk > before for pk in touched)
    return UpsertResult(created, len(touched) - created, len(rows) - len(touched))


# --- quotes --------------------------------------------------------------------------------


def quotes_upsert(*, quotes: Iterable[QuoteRecord]) -> UpsertResult:
    """One Quote per ticker. A quote older than the stored one is left out (counted as
    unchanged): the table holds the latest known price."""
    records = {q.symbol: q for q in quotes}
    ids = _ticker_ids(records.keys())
    problems = [f"unknown ticker {s}" for s in sorted(records.keys() - ids.keys())]
    cleaned: dict[int, dict[str, Any]] = {}
    for symbol, q in records.items():
        if symbol not in ids:
            continue
        try:
            if q.as_of.tzinfo is None:
                raise ValueError("as_of must be timezone-aware")
            cleaned[ids[symbol]] = {
                "price": _price(q.price, "price"),
                "change": None if q.change is None else Decimal(q.change).quantize(PRICE_PLACES),
                "change_pct": None
                if q.change_pct is None
                else Decimal(q.change_pct).quantize(Decimal("0.0001")),
                "volume": q.volume,
                "as_of": q.as_of.astimezone(UTC),
                "source": q.source,
            }
        except (ValueError, TypeError, InvalidOperation) as exc:
            problems.append(f"{symbol}: {exc}")
    if problems:
        raise IngestError(problems)
    with transaction.atomic():
        stored = {
            t: values
            for t, *values in Quote.objects.filter(ticker_id__in=cleaned)
            .order_by()
            .values_list("ticker_id", *QUOTE_FIELDS)
        }
        changed = []
        created = unchanged = 0
        for ticker_id, values in cleaned.items():
            old = stored.get(ticker_id)
            if old is None:
                created += 1
            elif tuple(old) == tuple(values.values()) or old[4] > values["as_of"]:
                unchanged += 1
                continue
            changed.append(Quote(ticker_id=ticker_id, **values))
        if changed:
            Quote.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=["ticker"],
                update_fields=[*QUOTE_FIELDS, "updated_at"],
            )
    return UpsertResult(created, len(changed) - created, unchanged)


# --- tickers and corporate actions ---------------------------------------------------------


def tickers_upsert(
    *, infos: Iterable[TickerInfo], asset_types: Mapping[str, str] | None = None
) -> UpsertResult:
    """Create or update tickers from vendor details. A blank vendor field (no sector, no
    market cap) never blanks a stored value; `is_demo` and `active` are left as they are.
    `asset_types` (symbol -> stock / etf / index; vendor details do not carry it) sets the
    asset type of a new ticker and corrects a stored one; a symbol not in it keeps its own."""
    records = {_symbol(i.symbol): i for i in infos}
    types = {_symbol(symbol): kind for symbol, kind in (asset_types or {}).items()}
    wrong = [
        f"{s}: asset type {k!r} is not one of {', '.join(Ticker.AssetType.values)}"
        for s, k in sorted(types.items())
        if k not in Ticker.AssetType.values
    ]
    if wrong:
        raise IngestError(wrong)
    with transaction.atomic():
        existing = {t.symbol: t for t in Ticker.objects.filter(symbol__in=records)}
        new, changed = [], []
        for symbol, info in records.items():
            values = {
                "name": info.name[:200],
                "exchange": info.exchange[:40],
                "sector": info.sector[:80],
                "industry": info.industry[:120],
                "market_cap": info.market_cap,
                "currency": (info.currency or "USD")[:3].upper(),
                "asset_type": types.get(symbol, ""),
            }
            ticker = existing.get(symbol)
            if ticker is None:
                kind = values["asset_type"] or Ticker.AssetType.STOCK
                new.append(Ticker(symbol=symbol, **{**values, "asset_type": kind}))
                continue
            dirty = False
            for name, value in values.items():
                if value not in ("", None) and getattr(ticker, name) != value:
                    setattr(ticker, name, value)
                    dirty = True
            if dirty:
                changed.append(ticker)
        Ticker.objects.bulk_create(new)
        if changed:
            for ticker in changed:
                ticker.updated_at = timezone.now()
            Ticker.objects.bulk_update(changed, [*TICKER_FIELDS, "asset_type", "updated_at"])
    return UpsertResult(len(new), len(changed), len(records) - len(new) - len(changed))


def corporate_actions_upsert(
    *, splits: Iterable[Split] = (), dividends: Iterable[Dividend] = ()
) -> UpsertResult:
    """Splits and cash dividends keyed by (ticker, kind, ex_date)."""
    wanted: dict[tuple[str, str, date], dict[str, Any]] = {}
    for s in splits:
        if s.ratio_from <= 0 or s.ratio_to <= 0:
            raise IngestError([f"{s.symbol} split {s.ex_date}: ratio must be positive"])
        wanted[(s.symbol, CorporateAction.Kind.SPLIT, s.ex_date)] = {
            "ratio_from": Decimal(s.ratio_from).quantize(PRICE_PLACES),
            "ratio_to": Decimal(s.ratio_to).quantize(PRICE_PLACES),
            "amount": None,
            "pay_date": None,
            "source": s.source,
        }
    for d in dividends:
        if d.amount < 0:
            raise IngestError([f"{d.symbol} dividend {d.ex_date}: amount is negative"])
        wanted[(d.symbol, CorporateAction.Kind.DIVIDEND, d.ex_date)] = {
            "ratio_from": None,
            "ratio_to": None,
            "amount": Decimal(d.amount).quantize(PRICE_PLACES),
            "pay_date": d.pay_date,
            "source": d.source,
        }
    if not wanted:
        return UpsertResult()
    ids = _ticker_ids({k[0] for k in wanted})
    unknown = sorted({k[0] for k in wanted} - ids.keys())
    if unknown:
        raise IngestError([f"unknown ticker(s): {', '.join(unknown)}"])
    fields = ("ratio_from", "ratio_to", "amount", "pay_date", "source")
    with transaction.atomic():
        stored = {
            (t, kind, ex): tuple(values)
            for t, kind, ex, *values in CorporateAction.objects.filter(ticker_id__in=ids.values())
            .order_by()
            .values_list("ticker_id", "kind", "ex_date", *fields)
        }
        changed, created = [], 0
        for (symbol, kind, ex_date), values in wanted.items():
            key = (ids[symbol], kind, ex_date)
            old = stored.get(key)
            if old == tuple(values.values()):
                continue
            created += old is None
            changed.append(CorporateAction(ticker_id=key[0], kind=kind, ex_date=ex_date, **values))
        if changed:
            CorporateAction.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=["ticker", "kind", "ex_date"],
                update_fields=list(fields),
            )
    return UpsertResult(created, len(changed) - created, len(wanted) - len(changed))


def tickers_ensure(*, symbols: Iterable[str]) -> int:
    """Create a bare ticker (no name yet; `sync_tickers` fills it in) for each unknown symbol.
    Returns how many were created."""
    wanted = {_symbol(s) for s in symbols}
    known = set(Ticker.objects.filter(symbol__in=wanted).values_list("symbol", flat=True))
    Ticker.objects.bulk_create([Ticker(symbol=s) for s in sorted(wanted - known)])
    return len(wanted - known)


def ticker_demo_release(*, symbols: Iterable[str]) -> int:
    """Turn demo tickers into real ones: delete their synthetic bars and quote and clear
    `is_demo`, so real prices never mix with demo prices. Returns how many were released."""
    with transaction.atomic():
        demo = list(Ticker.objects.filter(symbol__in=list(symbols), is_demo=True))
        if demo:
            DailyBar.objects.filter(ticker__in=demo, source=DEMO_SOURCE).delete()
            Quote.objects.filter(ticker__in=demo, source=DEMO_SOURCE).delete()
            Ticker.objects.filter(pk__in=[t.pk for t in demo]).update(
                is_demo=False, updated_at=timezone.now()
            )
    return len(demo)


def prices_import_batches(*, batches: Iterable[Sequence[Bar]]) -> UpsertResult:
    """`prices_import` over a stream of batches (import_prices reads files batch by batch),
    all in ONE transaction: memory stays at one batch, and nothing is stored unless every
    batch is. The caller raises inside the transaction (e.g. a row error found after the
    first batches were written) to roll it all back."""
    result = UpsertResult()
    with transaction.atomic():
        for bars in batches:
            result += prices_import(bars=bars)
    return result


def prices_import(*, bars: Sequence[Bar]) -> UpsertResult:
    """Store imported bars (a CSV file): create unknown tickers, release demo tickers (their
    synthetic history is replaced, not mixed), upsert the bars; all or nothing."""
    symbols = {b.symbol for b in bars}
    with transaction.atomic():
        tickers_ensure(symbols=symbols)
        ticker_demo_release(symbols=symbols)
        return bars_upsert(bars=bars)


# --- helpers -------------------------------------------------------------------------------


def _symbol(raw: str) -> str:
    return raw.strip().upper()


def _ticker_ids(symbols: Iterable[str]) -> dict[str, int]:
    return dict(Ticker.objects.filter(symbol__in=list(symbols)).values_list("symbol", "pk"))


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- CSV import through COPY (PostgreSQL) ----------------------------------------------------


@dataclass
class CopyImport:
    """What `prices_import_copy` read and stored, counted as `PriceReader` counts."""

    files: int = 0
    rows: int = 0
    symbols: set[str] | None = None
    off_calendar: int = 0
    off_calendar_examples: list[str] | None = None
    result: UpsertResult = UpsertResult()


class _NotPlain(Exception):
    """A file the COPY path does not take as it is: roll back, let the row-by-row reader
    find and word the problem."""


_PRICE_STAGE = "markets_price_stage"
_PRICE_SPANS = f"""
CREATE TEMP TABLE {_PRICE_STAGE}_span ON COMMIT DROP AS
SELECT t.symbol, t.id,
    (SELECT min(date) FROM markets_dailybar WHERE ticker_id = t.id) AS first,
    (SELECT max(date) FROM markets_dailybar WHERE ticker_id = t.id) AS last
FROM markets_ticker t WHERE t.symbol = ANY(%s)
"""  # noqa: S608
# The staged rows that are plainly valid, typed. Plain means the text is exactly what the
# database writes back for the value it read (`d::text = date`, `o::text = open`, ...): an
# ISO date (with DateStyle ISO, set by the caller; a cast refuses a 30 February, and a time
# of day or another format does not write back the same), a whole volume without sign or
# leading zeros, prices of digits and one point. Anything else -- "1e3", "+5", ".5", "0012",
# "1,000" -- makes the row "not plain" (or the cast raise), so the row-by-row reader, which
# accepts or refuses it in its own words, takes the files. Comparing the casts' own output
# costs a fifth of checking the characters with translate() (2.6 s per million rows) and
# leaves the same rows to that reader. NaN and Infinity write back as they read but fail
# the range checks. An empty cell (NULL) anywhere leaves the row out; a failed cast raises.
# The caller compares the rows stored with the rows COPYed.
_PRICE_ROWS = f"""
SELECT sp.id, r.d, r.o, r.h, r.l, r.c, r.a, r.v, %s::varchar(20)
FROM (
    SELECT upper(symbol) AS symbol, date::date AS d, open::numeric AS o, high::numeric AS h,
        low::numeric AS l, close::numeric AS c, NULLIF(adj_close, '')::numeric AS a,
        volume::bigint AS v, date, open, high, low, close, adj_close, volume
    FROM {_PRICE_STAGE}
    OFFSET 0  -- not flattened: each cast once per row, not once per use
) AS r JOIN {_PRICE_STAGE}_span sp ON sp.symbol = r.symbol
WHERE coalesce(length(r.date) = 10 AND r.d::text = r.date AND r.v::text = r.volume
    AND r.o::text = r.open AND r.h::text = r.high AND r.l::text = r.low
    AND r.c::text = r.close AND (r.a IS NULL OR r.a::text = r.adj_close)
    AND r.v >= 0 AND r.o > 0 AND r.l > 0 AND r.c > 0 AND r.h < 1e12
    AND (r.a IS NULL OR r.a > 0 AND r.a < 1e12)
    AND r.h >= greatest(r.o, r.l, r.c) AND r.l <= least(r.o, r.c), false)
"""  # noqa: S608 - only our own constants are interpolated
_OUTSIDE = "AND (sp.first IS NULL OR r.d NOT BETWEEN sp.first AND sp.last)"
_INSIDE = "AND r.d BETWEEN sp.first AND sp.last"
_PRICE_TWICE = f"""
SELECT 1 FROM {_PRICE_STAGE} s JOIN {_PRICE_STAGE}_span sp ON sp.symbol = upper(s.symbol)
WHERE s.date::date BETWEEN sp.first AND sp.last
GROUP BY sp.id, s.date::date HAVING count(*) > 1 LIMIT 1
"""  # noqa: S608
_PRICE_INSERT = f"INSERT INTO markets_dailybar ({_COLUMNS}) {_PRICE_ROWS} {_OUTSIDE}"
_PRICE_UPSERT = (
    _UPSERT_SQL.replace(
        "WITH upserted AS (",
        f"WITH src AS MATERIALIZED ({_PRICE_ROWS} {_INSIDE}), upserted AS (",
    )
    .replace(
        f"SELECT {_COLUMNS} FROM {_STAGE}",  # noqa: S608 - our own constants
        "SELECT * FROM src",
    )
    .replace("SELECT count(*)", "SELECT (SELECT count(*) FROM src), count(*)", 1)
)


def prices_import_copy(
    *, layouts: Sequence[Any], source: str, calendar: str = "nyse"
) -> CopyImport | None:
    """`prices_import` for whole CSV files on PostgreSQL, at close to COPY's speed: each
    file is COPYed as text into one staging table (1 MB at a time: memory stays flat); the
    distinct symbols are checked in Python and their tickers ensured; then one INSERT stores
    the plainly valid rows dated outside what each ticker holds and (only when a ticker holds
    bars) one INSERT ... ON CONFLICT DO UPDATE the rest; the rows are checked by those same
    statements (`_PRICE_ROWS`). All in one transaction.

    The SQL accepts only plainly valid rows (prices like 12.5, volumes like 1200, ISO dates).
    Fewer rows stored than COPYed, a file COPY refuses, a failed cast or a (ticker, date)
    twice roll it all back and return None: the caller then reads the files row by row
    (`PriceReader`), which says what is wrong where, in its words, or stores the rows this
    check was too strict for. `layouts` come from `markets.importers.copy_layout`."""
    from psycopg import Error as PsycopgError
    from psycopg import sql

    if connection.vendor != "postgresql" or not layouts:
        return None
    try:
        with transaction.atomic():
            return _prices_copy(layouts, source, calendar, sql)
    except (_NotPlain, DatabaseError, PsycopgError) as exc:
        logger.info("import_prices: COPY path declined (%s); reading row by row", exc)
        return None


def _prices_copy(layouts: Sequence[Any], source: str, calendar: str, sql: Any) -> CopyImport:
    extras = max(len(layout.columns) for layout in layouts)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL datestyle = 'ISO, YMD'")  # dates write back as YYYY-MM-DD
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_PRICE_STAGE}")
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_PRICE_STAGE}_span")
        cursor.execute(
            f"CREATE TEMP TABLE {_PRICE_STAGE} (seq bigint GENERATED ALWAYS AS IDENTITY, "
            "file integer, symbol text, date text, open text, high text, low text, "
            "close text, adj_close text, volume text"
            + "".join(f", extra{i} text" for i in range(extras))
            + ") ON COMMIT DROP"
        )
        offsets: list[int] = []  # seq of each file's first row, less one
        copied = 0
        for index, layout in enumerate(layouts):
            cursor.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN file SET DEFAULT {}, "
                        "ALTER COLUMN symbol SET DEFAULT {}").format(
                    sql.Identifier(_PRICE_STAGE), sql.Literal(index), sql.Literal(layout.symbol)
                )
            )  # fmt: skip
            statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER)").format(
                sql.Identifier(_PRICE_STAGE),
                sql.SQL(", ").join(sql.Identifier(c) for c in layout.columns),
            )
            offsets.append(copied)
            with layout.path.open("rb") as handle, cursor.copy(statement) as copy:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            copied += cursor.rowcount
        cursor.execute(f"SELECT DISTINCT symbol FROM {_PRICE_STAGE}")  # noqa: S608
        symbols: set[str] = set()
        for (raw,) in cursor.fetchall():
            if raw is None or not raw.isascii() or not SYMBOL.match(raw.upper()):
                raise _NotPlain(f"symbol {raw!r}")
            symbols.add(raw.upper())
        found = CopyImport(files=len(layouts), rows=copied, symbols=symbols)
        found.off_calendar_examples = []
        if calendar != "none" and copied:
            _off_calendar(cursor, found, layouts, offsets)
        tickers_ensure(symbols=symbols)
        ticker_demo_release(symbols=symbols)
        cursor.execute(_PRICE_SPANS, [sorted(symbols)])
        cursor.execute(_PRICE_INSERT, [source])
        created, stored, updated = cursor.rowcount, cursor.rowcount, 0
        if _any_span(cursor):
            # A (ticker, date) twice: the unique index refuses it among new dates, and ON
            # CONFLICT among stored ones unless the row is unchanged (DO UPDATE ... WHERE
            # skips it), so those are looked for.
            cursor.execute(_PRICE_TWICE)
            if cursor.fetchone():
                raise _NotPlain("a (ticker, date) twice")
            cursor.execute(_PRICE_UPSERT, [source])
            inside, more, updated = cursor.fetchone()
            created, stored = created + more, stored + inside
        if stored != copied:
            raise _NotPlain(f"{copied - stored} row(s) the SQL check does not take")
        cursor.execute(f"DROP TABLE {_PRICE_STAGE}")
        cursor.execute(f"DROP TABLE {_PRICE_STAGE}_span")
    found.result = UpsertResult(created, updated, copied - created - updated)
    return found


def _any_span(cursor: Any) -> bool:
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_PRICE_STAGE}_span WHERE first IS NOT NULL)")  # noqa: S608
    return cursor.fetchone()[0]


def _off_calendar(cursor: Any, found: CopyImport, layouts: Sequence[Any], offsets: list[int]):
    """Rows dated on days that are not NYSE sessions: counted per distinct day (a few
    thousand at most), the first five named by file and line like `PriceReader` does."""
    from markets import calendar

    cursor.execute(f"SELECT date::date, count(*) FROM {_PRICE_STAGE} GROUP BY 1")  # noqa: S608
    off = {day: count for day, count in cursor.fetchall() if not calendar.is_session(day)}
    found.off_calendar = sum(off.values())
    if not off:
        return
    cursor.execute(
        f"SELECT file, seq, upper(symbol), date::date FROM {_PRICE_STAGE} "  # noqa: S608
        "WHERE date::date = ANY(%s) ORDER BY seq LIMIT 5",
        [sorted(off)],
    )
    for file, seq, symbol, day in cursor.fetchall():
        line = seq - offsets[file] + 1  # the header is line 1
        found.off_calendar_examples.append(
            f"{layouts[file].path.name} line {line} ({symbol} {day})"
        )
