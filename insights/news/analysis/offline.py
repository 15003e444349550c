"""The offline analyser: a deterministic finance word list with negation (no key needed).

1. Tokenise the title, description and content into lower-case words.
2. Count positive and negative words from a compact list drawn from the Loughran-McDonald
   finance sentiment categories (see docs/news-analysis.md for why a compact list).
3. A sentiment word with a negator ("not", "no", "never", n't forms, …) among the three
   words before it counts for the opposite side: "not profitable" is negative, "no layoffs"
   and "didn't miss" are positive.
4. sentiment = (P - N) / (P + N), or 0 when the text has no sentiment word; the label uses
   the same bands as the Claude analysis (`labels.label_for`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from insights.news.analysis.labels import label_for


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NEGATORS = _words(
    "no not none neither never nobody nor without isn't aren't wasn't weren't doesn't "
    "don't didn't won't wouldn't can't cannot couldn't shouldn't hasn't haven't hadn't"
)

_POSITIVE_WORDS = """
achieve achieved achievement accomplish advance advanced advances advancing beat beats beating
benefit benefited benefits better best boost boosted boosts breakthrough bullish climb climbed
climbs efficient enhance enhanced exceed exceeded exceeding exceeds excellent expand expanded
expanding expansion favorable favourable gain gained gaining gains good great grew grow growing
grows growth high higher highest improve improved improvement improves improving increase
increased increases innovative leading opportunity optimistic outperform outperformed
outperforming outperforms positive profit profitability profitable profits progress rally
rallied rallies rebound rebounded record recover recovered recovery rise rises rising rose
solid stable strength strengthen strengthened strong stronger strongest succeed succeeded
success successful surge surged surges surpass surpassed upgrade upgraded upgrades upbeat
"""

_NEGATIVE_WORDS = """
adverse against bankrupt bankruptcy bearish breach concern concerns crisis critical cut cuts
cutting decline declined declines declining decrease decreased default defaulted deficit delay
delayed delays deteriorate deteriorated deterioration difficult difficulty disappoint
disappointed disappointing disappointment downgrade downgraded downgrades drop dropped drops
fail failed failing fails failure fall fallen falling falls fell fined fines fraud
investigation investigations impairment lawsuit lawsuits layoff layoffs lose loses losing loss
losses lost lower lowest miss missed misses negative penalty penalties plunge plunged plunges
probe recall recalled recession restatement risk risks risky sank shortfall slump slumped
slowdown slower sue sued suspend suspended tumble tumbled uncertain uncertainty unfavorable
volatile volatility warn warned warning warns weak weaken weakened weaker weakness worse worst
writedown
"""

POSITIVE = _words(_POSITIVE_WORDS)
NEGATIVE = _words(_NEGATIVE_WORDS)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_WINDOW = 3


@dataclass(frozen=True)
class OfflineResult:
    sentiment: float
    label: str
    positive: int
    negative: int


def offline_sentiment(text: str) -> OfflineResult:
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    positive = negative = 0
    for i, word in enumerate(words):
        if word in POSITIVE:
            polarity = 1
        elif word in NEGATIVE:
            polarity = -1
        else:
            continue
        if any(w in _NEGATORS for w in words[max(0, i - _WINDOW) : i]):
            polarity = -polarity
        if polarity > 0:
            positive += 1
        else:
            negative += 1
    hits = positive + negative
    score = round((positive - negative) / hits, 4) if hits else 0.0
    return OfflineResult(score, label_for(score), positive, negative)
