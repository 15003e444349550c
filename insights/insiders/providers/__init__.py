"""Insider-trade sources: SEC EDGAR (keyless, declared User-Agent)."""
