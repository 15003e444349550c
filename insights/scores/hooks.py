"""Registrations this area makes when Django starts (dashboard and stock-page panels,
strategies): called once from `InsightsConfig.ready()`."""

from __future__ import annotations


def register() -> None:
    return None
