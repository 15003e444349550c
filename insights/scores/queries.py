"""Query parameters of the AI-score page (qunex.params: bounded, bad values ignored by name)."""

from __future__ import annotations

from qunex import params

ORDER_CHOICES = [
    ("-score", "Highest score"),
    ("score", "Lowest score"),
    ("symbol", "Symbol"),
    ("-predicted", "Highest forecast"),
]


class ScoresQuery(params.QueryForm):
    sector = params.TextParam(max_length=80, initial="")
    min_score = params.IntegerParam(
        min_value=1,
        max_value=10,
        error_messages={"invalid": "Minimum score must be a whole number from 1 to 10."},
    )
    order = params.ChoiceParam(choices=ORDER_CHOICES, initial="-score")
