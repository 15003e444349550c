"""Reads of insider trades shared by the pages, the dashboard panel, the API and the AI score.

Signals: open-market purchases (code P) are the trades traders watch. A *cluster buy* is
INSIDER_CLUSTER_MIN_INSIDERS or more different insiders buying the same stock within
INSIDER_CLUSTER_DAYS days; a *large buy* grows the insider's holding by at least
INSIDER_LARGE_BUY_PCT percent (shares bought / shares held before).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, QuerySet

from insights.insiders.models import InsiderTransaction

NEW_YORK = ZoneInfo("America/New_York")

ROLES = {
    "director": "Director",
    "officer": "Officer",
    "ten_percent": "10% owner",
    "other": "Other",
}


def trades_list(
    *,
    symbols: list[str] | None = None,
    code: str | None = None,
    role: str | None = None,
    min_value: Decimal | None = None,
    buys_only: bool = False,
    since: date | None = None,
) -> QuerySet[InsiderTransaction]:
    qs = InsiderTransaction.objects.select_related("filing", "ticker").filter(
        filing__amended_by__isnull=True
    )
    if symbols is not None:
        qs = qs.filter(filing__issuer_symbol__in=symbols)
    if buys_only:
        qs = qs.filter(code="P")
    elif code:
        qs = qs.filter(code=code)
    if role == "director":
        qs = qs.filter(filing__is_director=True)
    elif role == "officer":
        qs = qs.filter(filing__is_officer=True)
    elif role == "ten_percent":
        qs = qs.filter(filing__is_ten_percent_owner=True)
    elif role == "other":
        qs = qs.filter(filing__is_other=True)
    if min_value is not None:
        qs = qs.filter(value__gte=min_value)
    if since is not None:
        qs = qs.filter(trade_date__gte=since)
    return qs.order_by("-filing__filed_on", "-trade_date", "-id")


def is_large_buy(trade: InsiderTransaction) -> bool:
    if trade.code != "P" or trade.shares_after is None:
        return False
    before = trade.shares_after - trade.shares
    if before <= 0:
        return True  # a first position
    return trade.shares / before * 100 >= settings.INSIDER_LARGE_BUY_PCT


@dataclass
class Cluster:
    symbol: str
    issuer_name: str
    first_day: date
    last_day: date
    insiders: list[str] = field(default_factory=list)
    total_value: Decimal = Decimal("0")
    trades: int = 0
    demo: bool = False  # made of seed_demo's filings


def cluster_buys(
    *, since: date, min_insiders: int | None = None, days: int | None = None
) -> list[Cluster]:
    """Windows of `days` in which `min_insiders` or more different insiders bought (code P)
    the same stock, newest first; one query. Each stock's buys are scanned in date order and
    the widest qualifying window ending at each buy is kept; overlapping windows merge."""
    min_insiders = min_insiders or settings.INSIDER_CLUSTER_MIN_INSIDERS
    days = days or settings.INSIDER_CLUSTER_DAYS
    rows = list(
        InsiderTransaction.objects.filter(
            code="P",
            trade_date__gte=since - timedelta(days=days),
            filing__amended_by__isnull=True,
        )
        .values_list(
            "filing__issuer_symbol",
            "filing__issuer_name",
            "trade_date",
            "filing__insider_cik",
            "filing__insider_name",
            "value",
            "filing__source",
        )
        .order_by("filing__issuer_symbol", "trade_date")
    )
    by_symbol: dict[str, list[tuple]] = {}
    for row in rows:
        by_symbol.setdefault(row[0], []).append(row)
    clusters: list[Cluster] = []
    for symbol, buys in by_symbol.items():
        current: Cluster | None = None
        for i, (_, name, day, _, _, _, _) in enumerate(buys):
            window = [b for b in buys[: i + 1] if (day - b[2]).days < days]
            insiders = {b[3] for b in window}
            if len(insiders) < min_insiders or day < since:
                continue
            start = min(b[2] for b in window)
            if current is not None and start <= current.last_day:
                members = [b for b in buys if current.first_day <= b[2] <= day]
            else:
                current = Cluster(symbol=symbol, issuer_name=name, first_day=start, last_day=day)
                clusters.append(current)
                members = window
            current.first_day = min(current.first_day, start)
            current.last_day = day
            current.insiders = sorted({b[4] for b in members})
            current.total_value = sum((b[5] or Decimal("0") for b in members), Decimal("0"))
            current.trades = len(members)
            current.demo = any(b[6] == "demo" for b in members)
    return sorted(clusters, key=lambda c: c.last_day, reverse=True)


def recent_buys(*, limit: int = 8) -> list[InsiderTransaction]:
    return list(trades_list(buys_only=True)[:limit])


def ticker_trades(*, ticker, limit: int = 10) -> list[InsiderTransaction]:
    return list(
        InsiderTransaction.objects.select_related("filing")
        .filter(filing__issuer_symbol=ticker.symbol, filing__amended_by__isnull=True)
        .order_by("-trade_date", "-id")[:limit]
    )


def net_buying_observations(
    *, start: date, end: date, symbols: list[str] | None = None
) -> list[tuple[str, datetime, float, datetime | None]]:
    """(symbol, known at, signed dollar value, superseded at) of open-market trades: + for
    purchases (P), minus for sales (S); other codes are not market views and are left out.

    Point in time: a row is dated by the moment its filing became public (`known_at`, else
    the end of its filing date in New York). A row of an amended filing counts until its
    amendment became public (`superseded at`; None for rows never amended), the amendment's
    rows from then on, so history reads as it was known on each day.
    """
    lo = datetime.combine(start, time.min, tzinfo=NEW_YORK)
    hi = datetime.combine(end, time.max, tzinfo=NEW_YORK)
    qs = InsiderTransaction.objects.filter(
        code__in=("P", "S"),
        value__isnull=False,
        filing__filed_on__gte=start - timedelta(days=1),
        filing__filed_on__lte=end + timedelta(days=1),
    )
    if symbols is not None:
        qs = qs.filter(filing__issuer_symbol__in=symbols)
    rows = qs.values_list(
        "filing__issuer_symbol",
        "filing__known_at",
        "filing__filed_on",
        "code",
        "value",
        "filing__amended_by__known_at",
        "filing__amended_by__filed_on",
    ).order_by("filing__filed_on", F("id").asc())
    out = []
    for symbol, known, filed, code, value, amend_known, amend_filed in rows:
        known = known or _end_of(filed)
        if not lo <= known <= hi:
            continue
        until = amend_known or (_end_of(amend_filed) if amend_filed else None)
        signed = float(value) if code == "P" else -float(value)
        out.append((symbol, known, signed, until))
    return out


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=NEW_YORK)
