"""How much a release moves markets, from its name: the ones traders plan their week around
(jobs, inflation, Fed decisions, GDP, retail sales) are high; secondary national figures
medium; regional and specialised series low."""

from __future__ import annotations

import re

HIGH = 3
MEDIUM = 2
LOW = 1

_RULES: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (level, re.compile(pattern, re.IGNORECASE))
    for level, pattern in (
        (LOW, r"\b(state|county|metropolitan|regional|area)\b"),
        (HIGH, r"^employment situation\b|nonfarm payrolls?"),
        (HIGH, r"^consumer price index\b|\bCPI\b"),
        (HIGH, r"^producer price index\b|\bPPI\b"),
        (HIGH, r"\bFOMC\b|federal funds|interest rate decision"),
        (HIGH, r"\bGDP\b|gross domestic product"),
        (HIGH, r"retail sales"),
        (HIGH, r"^employment cost index\b"),
        (HIGH, r"personal (income|consumption)|\bPCE\b"),
        (MEDIUM, r"job openings and labor turnover|\bJOLTS\b"),
        (MEDIUM, r"real earnings|productivity and costs|import and export price"),
        (MEDIUM, r"jobless claims|unemployment insurance"),
        (MEDIUM, r"\bISM\b|\bPMI\b|durable goods|housing starts|consumer (confidence|sentiment)"),
    )
)


def importance_for(name: str) -> int:
    """The first rule that matches decides; anything else is low."""
    for level, pattern in _RULES:
        if pattern.search(name):
            return level
    return LOW
