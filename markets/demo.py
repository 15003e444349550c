"""Demo market data for a laptop without vendor keys: about 45 well-known US tickers with
deterministic synthetic daily history on NYSE sessions, and a quote each.

Prices are made up (tickers carry `is_demo=True`, bars and quotes `source="demo"`), but they
behave like prices: each ticker's log price wanders around a trend between a 2014 and a 2025
level, its daily shocks mix a market factor, a sector factor and its own noise (so XLK moves
with AAPL and MSFT), and open/high/low/volume follow from the day's move.

The history starts on DEMO_START and each value depends only on the session's position
since then, so seeding again tomorrow adds one bar and changes none of the others.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TextIO

import numpy as np
from django.db import transaction

from markets import calendar
from markets.models import Ticker
from markets.providers import Bar, QuoteRecord, TickerInfo
from markets.refresh import last_completed_session
from markets.services import DEMO_SOURCE, bars_upsert, quotes_upsert, tickers_upsert
from markets.vendors import vendor_keys

DEMO_START = date(2014, 1, 2)
ANCHOR = date(2025, 6, 30)  # the "2025" level of each ticker; the trend slows to 7 %/yr after
MAX_SESSIONS = 9_000  # noise drawn per series (about 35 years): a fixed length keeps it stable
HALF_LIFE = 126  # sessions for a deviation from the trend to halve (about half a year)
SEED = 20_140_102

IT, COMM, DISC, STAPLES = (
    "Information Technology",
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
)
FIN, HEALTH, ENERGY, IND = "Financials", "Health Care", "Energy", "Industrials"
UTIL, MAT, RE = "Utilities", "Materials", "Real Estate"
SEMIS = "Semiconductors & Semiconductor Equipment"


@dataclass(frozen=True)
class DemoTicker:
    symbol: str
    name: str
    exchange: str
    sector: str
    industry: str
    price_2014: float  # split-adjusted, roughly
    price_2025: float
    vol: float  # annualised volatility
    shares_m: float  # shares outstanding, millions (0 for ETFs: no market cap)
    volume_m: float  # typical daily volume, millions of shares
    asset_type: str = Ticker.AssetType.STOCK


def _etf(symbol: str, name: str, exchange: str, sector: str, p14: float, p25: float, vol: float, volume_m: float) -> DemoTicker:  # fmt: skip
    return DemoTicker(symbol, name, exchange, sector, "", p14, p25, vol, 0, volume_m, Ticker.AssetType.ETF)  # fmt: skip


# fmt: off
UNIVERSE: tuple[DemoTicker, ...] = (
    DemoTicker("AAPL", "Apple Inc.", "NASDAQ", IT, "Technology Hardware, Storage & Peripherals", 19.8, 210, 0.28, 14_900, 55),
    DemoTicker("MSFT", "Microsoft Corporation", "NASDAQ", IT, "Software", 37, 490, 0.25, 7_430, 22),
    DemoTicker("NVDA", "NVIDIA Corporation", "NASDAQ", IT, SEMIS, 0.40, 155, 0.50, 24_400, 250),
    DemoTicker("AVGO", "Broadcom Inc.", "NASDAQ", IT, SEMIS, 5.3, 270, 0.40, 4_700, 25),
    DemoTicker("ORCL", "Oracle Corporation", "NYSE", IT, "Software", 38, 220, 0.28, 2_800, 10),
    DemoTicker("CSCO", "Cisco Systems, Inc.", "NASDAQ", IT, "Communications Equipment", 22, 68, 0.23, 3_960, 18),
    DemoTicker("ADBE", "Adobe Inc.", "NASDAQ", IT, "Software", 60, 380, 0.30, 425, 3),
    DemoTicker("CRM", "Salesforce, Inc.", "NYSE", IT, "Software", 55, 270, 0.33, 960, 6),
    DemoTicker("AMD", "Advanced Micro Devices, Inc.", "NASDAQ", IT, SEMIS, 3.9, 140, 0.55, 1_620, 50),
    DemoTicker("INTC", "Intel Corporation", "NASDAQ", IT, SEMIS, 26, 22, 0.35, 4_370, 50),
    DemoTicker("GOOGL", "Alphabet Inc. Class A", "NASDAQ", COMM, "Interactive Media & Services", 28, 178, 0.28, 5_800, 30),
    DemoTicker("META", "Meta Platforms, Inc.", "NASDAQ", COMM, "Interactive Media & Services", 55, 700, 0.38, 2_520, 15),
    DemoTicker("NFLX", "Netflix, Inc.", "NASDAQ", COMM, "Entertainment", 52, 1_250, 0.45, 425, 4),
    DemoTicker("DIS", "The Walt Disney Company", "NYSE", COMM, "Entertainment", 76, 122, 0.27, 1_800, 9),
    DemoTicker("AMZN", "Amazon.com, Inc.", "NASDAQ", DISC, "Broadline Retail", 20, 220, 0.32, 10_600, 45),
    DemoTicker("TSLA", "Tesla, Inc.", "NASDAQ", DISC, "Automobiles", 10, 320, 0.60, 3_220, 100),
    DemoTicker("HD", "The Home Depot, Inc.", "NYSE", DISC, "Specialty Retail", 80, 365, 0.22, 995, 4),
    DemoTicker("WMT", "Walmart Inc.", "NASDAQ", STAPLES, "Consumer Staples Distribution & Retail", 26, 97, 0.20, 8_000, 15),
    DemoTicker("COST", "Costco Wholesale Corporation", "NASDAQ", STAPLES, "Consumer Staples Distribution & Retail", 117, 990, 0.20, 443, 2),
    DemoTicker("PG", "The Procter & Gamble Company", "NYSE", STAPLES, "Household Products", 80, 160, 0.17, 2_340, 7),
    DemoTicker("KO", "The Coca-Cola Company", "NYSE", STAPLES, "Beverages", 40, 70, 0.16, 4_300, 13),
    DemoTicker("PEP", "PepsiCo, Inc.", "NASDAQ", STAPLES, "Beverages", 82, 135, 0.17, 1_370, 6),
    DemoTicker("BRK.B", "Berkshire Hathaway Inc. Class B", "NYSE", FIN, "Financial Services", 118, 485, 0.18, 2_160, 4),
    DemoTicker("JPM", "JPMorgan Chase & Co.", "NYSE", FIN, "Banks", 58, 290, 0.25, 2_780, 9),
    DemoTicker("V", "Visa Inc.", "NYSE", FIN, "Financial Services", 55, 355, 0.22, 1_940, 7),
    DemoTicker("MA", "Mastercard Incorporated", "NYSE", FIN, "Financial Services", 80, 565, 0.24, 910, 3),
    DemoTicker("JNJ", "Johnson & Johnson", "NYSE", HEALTH, "Pharmaceuticals", 92, 155, 0.17, 2_400, 7),
    DemoTicker("LLY", "Eli Lilly and Company", "NYSE", HEALTH, "Pharmaceuticals", 51, 780, 0.28, 900, 3),
    DemoTicker("UNH", "UnitedHealth Group Incorporated", "NYSE", HEALTH, "Health Care Providers & Services", 75, 305, 0.25, 905, 6),
    DemoTicker("XOM", "Exxon Mobil Corporation", "NYSE", ENERGY, "Oil, Gas & Consumable Fuels", 100, 108, 0.26, 4_300, 15),
    DemoTicker("CVX", "Chevron Corporation", "NYSE", ENERGY, "Oil, Gas & Consumable Fuels", 125, 145, 0.27, 1_750, 8),
    DemoTicker("BA", "The Boeing Company", "NYSE", IND, "Aerospace & Defense", 137, 210, 0.35, 750, 8),
    DemoTicker("CAT", "Caterpillar Inc.", "NYSE", IND, "Machinery", 90, 350, 0.28, 470, 3),
    DemoTicker("NEE", "NextEra Energy, Inc.", "NYSE", UTIL, "Electric Utilities", 21, 70, 0.20, 2_060, 10),
    DemoTicker("LIN", "Linde plc", "NASDAQ", MAT, "Chemicals", 160, 465, 0.20, 470, 2),
    DemoTicker("PLD", "Prologis, Inc.", "NYSE", RE, "Industrial REITs", 37, 108, 0.25, 925, 4),
    _etf("SPY", "SPDR S&P 500 ETF Trust", "NYSE Arca", "", 183, 610, 0.16, 70),
    _etf("QQQ", "Invesco QQQ Trust", "NASDAQ", "", 87, 540, 0.21, 40),
    _etf("DIA", "SPDR Dow Jones Industrial Average ETF Trust", "NYSE Arca", "", 165, 435, 0.16, 3),
    _etf("IWM", "iShares Russell 2000 ETF", "NYSE Arca", "", 115, 215, 0.22, 30),
    _etf("XLK", "Technology Select Sector SPDR Fund", "NYSE Arca", IT, 35, 250, 0.22, 7),
    _etf("XLF", "Financial Select Sector SPDR Fund", "NYSE Arca", FIN, 22, 52, 0.20, 40),
    _etf("XLV", "Health Care Select Sector SPDR Fund", "NYSE Arca", HEALTH, 55, 135, 0.16, 8),
    _etf("XLE", "Energy Select Sector SPDR Fund", "NYSE Arca", ENERGY, 88, 88, 0.26, 15),
    _etf("XLY", "Consumer Discretionary Select Sector SPDR Fund", "NYSE Arca", DISC, 66, 215, 0.20, 4),
    _etf("XLP", "Consumer Staples Select Sector SPDR Fund", "NYSE Arca", STAPLES, 43, 81, 0.14, 9),
    _etf("XLI", "Industrial Select Sector SPDR Fund", "NYSE Arca", IND, 52, 145, 0.19, 9),
    _etf("XLU", "Utilities Select Sector SPDR Fund", "NYSE Arca", UTIL, 38, 80, 0.17, 12),
    _etf("XLB", "Materials Select Sector SPDR Fund", "NYSE Arca", MAT, 46, 88, 0.19, 6),
    _etf("XLRE", "Real Estate Select Sector SPDR Fund", "NYSE Arca", RE, 31, 42, 0.19, 6),
    _etf("XLC", "Communication Services Select Sector SPDR Fund", "NYSE Arca", COMM, 35, 105, 0.20, 5),
)
# fmt: on

# Loadings on the market and sector factors; the rest of each day's shock is the ticker's own.
LOADINGS = {"stock": (0.60, 0.40), "sector_etf": (0.75, 0.60), "broad_etf": (0.97, 0.0)}


def _rng(*parts: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32("/".join(parts).encode())])


def _normals(*parts: str) -> np.ndarray:
    return _rng(*parts).standard_normal(MAX_SESSIONS)


@dataclass(frozen=True)
class Series:
    days: list[date]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def demo_series(spec: DemoTicker, days: list[date]) -> Series:
    """One ticker's synthetic OHLCV on `days` (consecutive sessions from DEMO_START)."""
    n = len(days)
    if n > MAX_SESSIONS:
        raise ValueError(f"demo history is limited to {MAX_SESSIONS} sessions")
    sigma = spec.vol / np.sqrt(252)
    kind = "stock" if spec.asset_type == Ticker.AssetType.STOCK else "sector_etf"
    if spec.asset_type != Ticker.AssetType.STOCK and not spec.sector:
        kind = "broad_etf"
    w_market, w_sector = LOADINGS[kind]
    w_own = np.sqrt(1 - w_market**2 - w_sector**2)
    shocks = sigma * (
        w_market * _normals("market")[:n]
        + w_sector * _normals("sector", spec.sector)[:n]
        + w_own * _normals("own", spec.symbol)[:n]
    )
    phi = 0.5 ** (1 / HALF_LIFE)
    deviation = np.empty(n)
    level = 0.0
    for i, shock in enumerate(shocks):  # an AR(1) around the trend; n is a few thousand
        level = phi * level + shock
        deviation[i] = level

    years = np.array([(d - DEMO_START).days for d in days]) / 365.25
    anchor_years = (ANCHOR - DEMO_START).days / 365.25
    growth = np.log(spec.price_2025 / spec.price_2014) / anchor_years
    trend = (
        np.log(spec.price_2014)
        + growth * np.minimum(years, anchor_years)
        + 0.07 * np.maximum(years - anchor_years, 0)
    )
    close = np.exp(trend + deviation)

    gap = np.exp(0.25 * sigma * _normals("gap", spec.symbol)[:n])
    open_ = np.concatenate(([close[0]], close[:-1])) * gap
    wick = 0.5 * sigma
    high = np.maximum(open_, close) * np.exp(wick * np.abs(_normals("high", spec.symbol)[:n]))
    low = np.minimum(open_, close) * np.exp(-wick * np.abs(_normals("low", spec.symbol)[:n]))
    move = np.abs(np.log(close / open_)) / sigma
    volume = (
        spec.volume_m * 1e6 * np.exp(0.3 * _normals("volume", spec.symbol)[:n] + 0.4 * (move - 0.8))
    )
    return Series(days, open_, high, low, close, np.rint(volume).astype(np.int64))


def _decimals(values: np.ndarray) -> list[Decimal]:
    """Cents, or 1/100 cent below $1 (split-adjusted prices of 2014 can be that small)."""
    return [Decimal(f"{v:.2f}") if v >= 1 else Decimal(f"{v:.4f}") for v in values.tolist()]


def demo_bars(spec: DemoTicker, days: list[date]) -> list[Bar]:
    s = demo_series(spec, days)
    opens, highs, lows, closes = map(_decimals, (s.open, s.high, s.low, s.close))
    return [
        Bar(
            spec.symbol,
            day,
            o,
            max(h, o, c),  # rounding must not push the close above the high
            min(lo, o, c),
            c,
            None,
            v,
            DEMO_SOURCE,
        )
        for day, o, h, lo, c, v in zip(
            days, opens, highs, lows, closes, s.volume.tolist(), strict=True
        )
    ]


def demo_quote(spec: DemoTicker, bars: list[Bar]) -> QuoteRecord:
    last, previous = bars[-1], bars[-2]
    change = last.close - previous.close
    session = calendar.session(last.date)
    as_of = session.close if session else datetime.combine(last.date, datetime.min.time())
    return QuoteRecord(
        spec.symbol,
        last.close,
        change,
        (change / previous.close * 100).quantize(Decimal("0.0001")),
        last.volume,
        as_of,
        DEMO_SOURCE,
    )


def _info(spec: DemoTicker, last_close: Decimal | None) -> TickerInfo:
    cap = int(spec.shares_m * 1e6 * float(last_close)) if spec.shares_m and last_close else None
    return TickerInfo(
        spec.symbol,
        spec.name,
        spec.exchange,
        spec.sector,
        spec.industry,
        cap,
        "USD",
        "US",
        DEMO_SOURCE,
    )


def _asset_types(specs: Iterable[DemoTicker]) -> dict[str, str]:
    """Stock or ETF per symbol: set on every seed, so a database seeded before the ETFs were
    typed is corrected (the dashboard's gainers and losers are stocks only)."""
    return {s.symbol: s.asset_type for s in specs}


def seed(*, user=None, stdout: TextIO) -> None:
    """Load the demo universe (idempotent). With a vendor key configured, only the tickers
    are created, as real tickers without prices, for `refresh_market_data` to fill in. A
    ticker that already holds real data is left alone."""
    if any(vendor_keys().values()):
        with transaction.atomic():
            result = tickers_upsert(
                infos=[_info(s, None) for s in UNIVERSE], asset_types=_asset_types(UNIVERSE)
            )
        stdout.write(
            f"Market data: vendor key set, so no demo prices; {result.created} ticker(s) added. "
            "Run `manage.py refresh_market_data` to load real prices."
        )
        return
    end = last_completed_session()
    days = calendar.sessions(DEMO_START, end)
    real = set(
        Ticker.objects.filter(is_demo=False, symbol__in=[s.symbol for s in UNIVERSE]).values_list(
            "symbol", flat=True
        )
    )
    specs = [s for s in UNIVERSE if s.symbol not in real]
    bars = {s.symbol: demo_bars(s, days) for s in specs}
    with transaction.atomic():
        tickers_upsert(
            infos=[_info(s, bars[s.symbol][-1].close) for s in specs],
            asset_types=_asset_types(specs),
        )
        Ticker.objects.filter(symbol__in=[s.symbol for s in specs], is_demo=False).update(
            is_demo=True
        )
        result = bars_upsert(bars=[b for symbol_bars in bars.values() for b in symbol_bars])
        quotes_upsert(quotes=[demo_quote(s, bars[s.symbol]) for s in specs])
    skipped = f"; {len(real)} ticker(s) with real data left alone" if real else ""
    stdout.write(
        f"Market data: {len(specs)} demo tickers, {days[0]}..{days[-1]} ({len(days)} sessions): "
        f"{result.created} bars added, {result.updated} updated{skipped}."
    )
