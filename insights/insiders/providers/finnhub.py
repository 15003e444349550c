"""Finnhub insider transactions (`/stock/insider-transactions`, needs FINNHUB_API_KEY): the
second source, used for a company when EDGAR could not be read for it.

Finnhub reports each Form 4 row with the insider's name, the signed share change, the shares
held after, the price, the code and the filing and trade dates, but no accession number or
role. Rows of one insider filed on one day become one filing, keyed
`finnhub:<symbol>:<filing date>:<name hash>`, so a re-run stores nothing twice.

Every call is taken from Finnhub's shared budget (markets.budget: 60 a minute on the free
plan, with the hourly quote step, the news and the web feed), on the vendors' session without
retries of its own. It waits up to the run's deadline (`run_deadline`) or, without one, up to
INSIDER_FINNHUB_SECONDS from this adapter's first call; a company it cannot ask by then fails
with a `deferred` SecError (a later run asks again). A 429 blocks Finnhub for its Retry-After
in every process; a 403 is remembered for a day (no more insider calls until then).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from django.conf import settings

from insights.insiders.parser import FilingRecord, TransactionRecord
from insights.insiders.providers.sec import SecError
from markets.budget import (
    budget_for,
    current_deadline,
    deadline_clock,
    note_refusal,
    retry_after_seconds,
    spend_call,
)

CAPABILITY = "insider_transactions"


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_insider_transactions(
    body: Any, *, symbol: str, start: date, end: date
) -> tuple[list[tuple[str, date, FilingRecord]], list[str]]:
    """[(accession, filed_on, record)] for rows filed in [start, end], and the skipped rows."""
    rows = body.get("data") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise SecError("finnhub: no insider-transactions data list in the answer")
    groups: dict[tuple[str, date], list[TransactionRecord]] = {}
    skipped: list[str] = []
    for i, row in enumerate(rows):
        try:
            name = " ".join(str(row["name"]).split())[:300]
            filed = date.fromisoformat(str(row["filingDate"])[:10])
            traded = date.fromisoformat(str(row["transactionDate"])[:10])
            code = str(row.get("transactionCode") or "").strip().upper()
            change = _decimal(row.get("change"))
        except (KeyError, TypeError, ValueError, AttributeError):
            skipped.append(f"finnhub {symbol} row {i + 1}: missing name or dates")
            continue
        if not name or len(code) != 1 or not code.isalpha() or change is None or change == 0:
            skipped.append(f"finnhub {symbol} row {i + 1}: missing code or share change")
            continue
        if not start <= filed <= end:
            continue
        rows_of = groups.setdefault((name, filed), [])
        rows_of.append(
            TransactionRecord(
                table="d" if row.get("isDerivative") else "nd",
                row=len(rows_of),
                security_title="Derivative security" if row.get("isDerivative") else "Common Stock",
                trade_date=traded,
                code=code,
                acquired=change > 0,
                shares=abs(change),
                price=_decimal(row.get("transactionPrice")),
                shares_after=_decimal(row.get("share")),
                direct=True,
            )
        )
    out = []
    for (name, filed), transactions in groups.items():
        digest = hashlib.sha256(name.encode()).hexdigest()[:10]
        record = FilingRecord(
            form="4",
            period=max(t.trade_date for t in transactions),
            issuer_cik="",
            issuer_name=symbol,
            issuer_symbol=symbol,
            insider_cik="",
            insider_name=name,
            is_director=False,
            is_officer=False,
            officer_title="",
            is_ten_percent_owner=False,
            is_other=False,
            other_text="",
            rule_10b5_1=None,
            transactions=tuple(transactions),
        )
        out.append((f"finnhub:{symbol}:{filed.isoformat()}:{digest}", filed, record))
    return out, skipped


class FinnhubInsiders:
    name = "finnhub"

    def __init__(self, *, api_key: str | None = None, session: requests.Session | None = None):
        self.api_key = settings.FINNHUB_API_KEY if api_key is None else api_key
        if session is None:
            from markets.vendors import market_session

            session = market_session()
        self.session = session
        self.budget = budget_for("finnhub", key=self.api_key)
        self._wait_until: float | None = None

    def _take_call(self, symbol: str) -> None:
        wait_until = current_deadline()
        if wait_until is None:
            if self._wait_until is None:  # this run's time for Finnhub starts now
                self._wait_until = deadline_clock() + settings.INSIDER_FINNHUB_SECONDS
            wait_until = self._wait_until
        why = spend_call(self.budget, capability=CAPABILITY, wait_until=wait_until)
        if why is not None:
            raise SecError(
                f"finnhub: {why} ({symbol} left for a later run)",
                permanent=why.startswith("not entitled"),
                deferred=True,
            )

    def filings(self, *, symbol: str, start: date, end: date):
        self._take_call(symbol)
        try:
            response = self.session.get(
                f"{settings.FINNHUB_BASE_URL.rstrip('/')}/stock/insider-transactions",
                params={"symbol": symbol, "from": start.isoformat(), "to": end.isoformat()},
                headers={"X-Finnhub-Token": self.api_key},
            )
            body = json.loads(response.content)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if exc.response is not None:
                note_refusal(
                    self.budget,
                    status,
                    retry_after=retry_after_seconds(exc.response.headers.get("Retry-After")),
                    capability=CAPABILITY,
                )
            raise SecError(
                f"finnhub: HTTP {status} for {symbol}", permanent=status in (401, 403)
            ) from exc
        except requests.RequestException as exc:
            raise SecError(f"finnhub: {type(exc).__name__} for {symbol}") from exc
        except ValueError as exc:
            raise SecError(f"finnhub: not JSON for {symbol}") from exc
        return parse_insider_transactions(body, symbol=symbol, start=start, end=end)
