"""SEC EDGAR: the ticker → CIK map, each company's recent filings, and each Form 4's XML.

EDGAR asks every client to declare who it is in the User-Agent (SEC_USER_AGENT) and to stay
under 10 requests per second; `SecEdgar` does both for every request it makes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import requests
from django.conf import settings

from qunex.http import shared_session

PLACEHOLDER_AGENTS = {"", "Qunex admin@qunex.local"}


class SecError(Exception):
    """`deferred`: no call was made, the vendor's shared budget (markets.budget) had none
    within the run's time (Finnhub): a later run asks again; not the source's fault."""

    def __init__(self, message: str, *, permanent: bool = False, deferred: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.deferred = deferred


@dataclass(frozen=True, slots=True)
class FilingRef:
    cik: str
    accession: str
    form: str
    filed_on: date
    url: str
    accepted_at: datetime | None = None  # EDGAR's acceptanceDateTime (UTC) when listed


class RateLimiter:
    """At most `per_second` calls per second across threads: each call waits its turn."""

    def __init__(self, per_second: float, *, clock=time.monotonic, sleep=time.sleep) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)


def user_agent_problem(agent: str) -> str | None:
    """Why `agent` is not an acceptable declared User-Agent, or None when it is."""
    if agent.strip() in PLACEHOLDER_AGENTS:
        return "SEC_USER_AGENT is not set: EDGAR requires 'Company name contact@email'."
    if "@" not in agent:
        return "SEC_USER_AGENT must include a contact email, e.g. 'Acme Research ops@acme.com'."
    return None


class SecEdgar:
    name = "sec"

    def __init__(
        self,
        *,
        user_agent: str | None = None,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.user_agent = settings.SEC_USER_AGENT if user_agent is None else user_agent
        problem = user_agent_problem(self.user_agent)
        if problem:
            raise SecError(problem, permanent=True)
        self.session = session or shared_session()
        self.limiter = limiter or RateLimiter(settings.SEC_MAX_REQUESTS_PER_SECOND)

    def _get(self, url: str) -> bytes:
        self.limiter.wait()
        try:
            response = self.session.get(
                url, headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
            )
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            raise SecError(f"sec: HTTP {status} for {url}", permanent=status in (403, 404)) from exc
        except requests.RequestException as exc:
            raise SecError(f"sec: {type(exc).__name__} for {url}") from exc
        return response.content

    def _json(self, url: str):
        try:
            return json.loads(self._get(url))
        except ValueError as exc:
            raise SecError(f"sec: not JSON from {url}") from exc

    def ticker_map(self) -> dict[str, str]:
        """{symbol: CIK without leading zeros} from the SEC's company_tickers.json."""
        body = self._json(settings.SEC_TICKER_MAP_URL)
        rows = body.values() if isinstance(body, dict) else []
        out: dict[str, str] = {}
        for row in rows:
            if isinstance(row, dict) and row.get("ticker") and row.get("cik_str") is not None:
                out.setdefault(str(row["ticker"]).upper(), str(row["cik_str"]).lstrip("0"))
        if not out:
            raise SecError("sec: the ticker map is empty or malformed")
        return out

    def recent_filings(
        self, *, cik: str, since: date, forms: frozenset[str] = frozenset({"4", "4/A"})
    ) -> list[FilingRef]:
        """The company's Form 4/4-A filings filed on or after `since` (newest first)."""
        body = self._json(
            f"{settings.SEC_DATA_BASE_URL.rstrip('/')}/submissions/CIK{int(cik):010d}.json"
        )
        recent = (body.get("filings") or {}).get("recent") if isinstance(body, dict) else None
        if not isinstance(recent, dict):
            raise SecError(f"sec: no recent filings list for CIK {cik}")
        columns = [
            recent.get(k) or []
            for k in ("accessionNumber", "form", "filingDate", "primaryDocument")
        ]
        accepted = list(recent.get("acceptanceDateTime") or [])
        accepted += [None] * (len(columns[0]) - len(accepted))
        refs: list[FilingRef] = []
        for accession, form, filed, document, when in zip(*columns, accepted, strict=False):
            if form not in forms:
                continue
            try:
                filed_on = date.fromisoformat(str(filed))
            except ValueError:
                continue
            if filed_on < since:
                continue
            refs.append(
                FilingRef(
                    cik=cik,
                    accession=str(accession),
                    form=str(form),
                    filed_on=filed_on,
                    url=document_url(cik, str(accession), str(document)),
                    accepted_at=acceptance_time(when),
                )
            )
        return refs

    def document(self, ref: FilingRef) -> bytes:
        return self._get(ref.url)


def acceptance_time(raw: object) -> datetime | None:
    """EDGAR's `acceptanceDateTime` ("2025-01-08T16:30:05.000Z", UTC), or None when absent
    or unreadable."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def document_url(cik: str, accession: str, primary_document: str) -> str:
    """The raw XML of a filing's primary document. EDGAR lists the rendered view
    (`xslF345X05/form4.xml`); the raw file is the same name without the style folder."""
    name = (
        primary_document.rsplit("/", 1)[-1]
        if primary_document.startswith("xsl")
        else primary_document
    )
    folder = accession.replace("-", "")
    return f"{settings.SEC_ARCHIVES_BASE_URL.rstrip('/')}/Archives/edgar/data/{int(cik)}/{folder}/{name}"


Log = Callable[[str], None]
