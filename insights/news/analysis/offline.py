"""The offline analyser: a deterministic finance word list with negation (no key needed).

1. Tokenise the title, description and content into lower-case words.
2. Count positive and negative words from a compact list drawn from the Loughran-McDonald
   finance sentiment categories (see docs/news-analysis.md for why a compact list).
3. A sentiment word with a negator ("not", "no", "never", n't forms, …) among the three
   words before it counts for the opposite side: "not profitable" is negative, "no layoffs"
   and "didn't miss" are positive.
4. A positive word next to a slowing word (within two words either side: "growth slows",
   "slowing growth", "bookings stall") does not count: slowing growth is not good news; the
   slowing word itself counts negative.
5. A movement word ("rise", "fall", "widen", …) whose subject is something bad (a cost, a loss, unemployment, fears:
   within two words before it, or the word right after it) counts for the opposite side,
   and the subject itself is not counted again: "costs climb" and "losses widen" are
   negative, "losses narrow", "fears ease" and "jobless claims fall" positive.
6. sentiment = (P - N) / (P + N), or 0 when the text has no sentiment word; the label uses
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

# Revised for issue 20 (offline-v3): the price and trend verbs of headlines ("sinks",
# "slides", "soars", "jumps", "tops") in every inflection, deal and legal outcomes
# ("approval", "wins", "rejected", "recalls"). Measured on the labelled headline set in
# tests/insights/news/analysis/headlines.py (docs/news-analysis.md).
_POSITIVE_WORDS = """
accelerate accelerated accelerates accelerating achieve achieved achievement accomplish advance
advanced advances advancing approval approvals approve approved approves beat beating beats
benefit benefited benefits best better boost boosted boosting boosts breakthrough bullish
buyback buybacks cleared climb climbed climbing climbs double doubled doubles efficient enhance
enhanced exceed exceeded exceeding exceeds excellent expand expanded expanding expands expansion
favorable favourable gain gained gaining gains good great grew grow growing grows growth high
higher highest improve improved improvement improves improving increase increased increases
innovative jump jumped jumping jumps leading lift lifted lifts opportunity optimistic
outperform outperformed outperforming outperforms positive premium profit profitability
profitable profits progress raise raised raises rallied rallies rally rallying rebound
rebounded rebounding rebounds record recover recovered recovering recovers recovery rise rises
rising rose secure secured secures soar soared soaring soars solid stable strength strengthen
strengthened strong stronger strongest succeed succeeded success successful surge surged surges
surging surpass surpassed top topped tops upbeat upgrade upgraded upgrades win wins won
"""

_NEGATIVE_WORDS = """
accident adverse against bankrupt bankruptcy bearish blocked breach collapse collapsed
collapses concern concerns contamination contraction crisis critical cut cuts cutting decline
declined declines declining decrease decreased default defaulted defaults defect deficit delay
delayed delays deteriorate deteriorated deterioration difficult difficulty dilution disappoint
disappointed disappointing disappointment disappoints disrupt disrupted disrupts downgrade
downgraded downgrades drop dropped dropping drops explosion fail failed failing fails failure
fall fallen falling falls fear fears fell fined fines fraud halt halted halts impairment
investigated investigation investigations lawsuit lawsuits layoff layoffs lose loses losing
loss losses lost lower lowered lowers lowest miss missed misses negative penalty penalties
plummet plummeted plummets plunge plunged plunges plunging probe recall recalled recalls
recession rejected rejects resign resigns restatement restates retreat retreated retreats
revoked risk risks risky sank selloff shortage shortfall shrank shrink shrinking shrinks sink
sinking sinks slid slide slides sliding slip slipped slips slump slumped slumping slumps
slowdown squeeze squeezed squeezes strike sue sued sunk suspend suspended suspends trim
trimmed trims tumble tumbled tumbles tumbling uncertain uncertainty unfavorable volatile
volatility warn warned warning warns weak weaken weakened weakening weakens weaker weakness
worries worry worse worst writedown
"""

# Slowing words: negative themselves, and they cancel a positive word beside them.
_SLOWING_WORDS = """
decelerate decelerated decelerates decelerating slow slowed slower slowing slows sputter
sputtered sputters stall stalled stalling stalls weaken weakened weakening weakens
"""

# Things that are bad to have more of: a movement of theirs has the opposite sign.
_BAD_SUBJECTS = """
burn churn cost costs debt default defaults deficit expense expenses fear fears inflation
jobless layoffs loss losses shortage spreads unemployment worries
"""
# Words that say an amount moved: only these are turned round by a bad subject.
_MOVEMENT_WORDS = """
climb climbed climbing climbs decline declined declines declining decrease decreased double
doubled doubles drop dropped dropping drops fall falling falls fell grew grow growing grows
higher increase increased increases jump jumped jumping jumps lower lowered lowers plunge
plunged plunges rise rises rising rose shrank shrink shrinking shrinks sink sinks slide slides
slip slips slump slumped slumps soar soared soaring soars surge surged surges surging tumble
tumbled tumbles widen widened widening widens
ease eased eases easing narrow narrowed narrowing narrows
"""
# Movements that only mean something next to a bad subject ("losses narrow", "fears ease").
_EASING_WORDS = "ease eased eases easing narrow narrowed narrowing narrows"
# "Widen" is growth in size: good for a lead, bad for losses, spreads and deficits.
_WIDENING_WORDS = "widen widened widening widens"

POSITIVE = _words(_POSITIVE_WORDS) | _words(_WIDENING_WORDS)
SLOWING = _words(_SLOWING_WORDS)
NEGATIVE = _words(_NEGATIVE_WORDS) | SLOWING
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_WINDOW = 3
_SLOWING_WINDOW = 2
BAD_SUBJECTS = _words(_BAD_SUBJECTS)
MOVEMENT = _words(_MOVEMENT_WORDS)
EASING = _words(_EASING_WORDS)


@dataclass(frozen=True)
class OfflineResult:
    sentiment: float
    label: str
    positive: int
    negative: int


def _polarity(word: str) -> int:
    if word in POSITIVE:
        return 1
    if word in NEGATIVE:
        return -1
    return -1 if word in EASING else 0  # flipped to +1 by its bad subject


def _bad_subject(words: list[str], i: int) -> int | None:
    """The index of the bad thing `words[i]` says moves ("costs climb", "rising costs")."""
    for j in (i - 1, i - 2, i + 1):
        if 0 <= j < len(words) and words[j] in BAD_SUBJECTS:
            return j
    return None


def offline_sentiment(text: str) -> OfflineResult:
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    polarity = [_polarity(w) for w in words]
    # 5: a bad subject turns its movement word round and is not counted itself.
    for i, word in enumerate(words):
        if word not in MOVEMENT or polarity[i] == 0:
            continue
        j = _bad_subject(words, i)
        if j is not None:
            polarity[i] = -polarity[i]
            polarity[j] = 0
    for i, word in enumerate(words):
        if word in EASING and polarity[i] < 0:
            polarity[i] = 0  # no bad subject: "ease" alone says nothing
    positive = negative = 0
    for i, word in enumerate(words):
        value = polarity[i]
        if value == 0:
            continue
        if word in POSITIVE:
            near = words[max(0, i - _SLOWING_WINDOW) : i + _SLOWING_WINDOW + 1]
            if any(w in SLOWING for w in near):
                continue  # 4: "growth slows": the slowing word carries the sentiment
        if any(w in _NEGATORS for w in words[max(0, i - _WINDOW) : i]):
            value = -value
        if value > 0:
            positive += 1
        else:
            negative += 1
    hits = positive + negative
    score = round((positive - negative) / hits, 4) if hits else 0.0
    return OfflineResult(score, label_for(score), positive, negative)
