"""Sentiment bands shared by the Claude validator and the offline analyser."""

from __future__ import annotations


def label_for(sentiment: float) -> str:
    """The label of a sentiment in -1 … 1 (bands stated in the Claude system prompt)."""
    if sentiment < -0.6:
        return "very_negative"
    if sentiment < -0.15:
        return "negative"
    if sentiment <= 0.15:
        return "neutral"
    if sentiment <= 0.6:
        return "positive"
    return "very_positive"
