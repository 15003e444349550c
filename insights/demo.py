"""Demo insights for a laptop with no vendor keys, each part stored through its area's own
services and labelled "Demo data" on every page that shows it:

1. news (insights/news/demo.py): stories from several made-up publishers, linked tickers,
   offline analyses and three full demo analyses ("Demo analysis, not from Claude");
2. insider trades (insights/insiders/demo.py): open-market buys and sells, a cluster buy, an
   amendment, derivative rows;
3. the economic calendar (insights/calendar/demo.py): recent releases with actual, forecast
   and surprise, and the next two weeks' releases including the FOMC decision;
4. AI scores (insights/scores/demo.py): a model trained on demo bars up to the day before the
   last 60 sessions (promoted for the demo, labelled demo) and each of those sessions scored
   as that evening's run would have, so they make a published track record (news and insider
   trades first: they are inputs).

Each part is idempotent and steps aside for real data, which also replaces it later (see each
module's `*_demo_release`).
"""

from __future__ import annotations

from typing import TextIO

from django.utils import timezone

from insights.calendar import demo as calendar_demo
from insights.insiders import demo as insiders_demo
from insights.news import demo as news_demo
from insights.scores import demo as scores_demo


def seed(*, user, stdout: TextIO) -> None:
    now = timezone.now()
    stdout.write(news_demo.seed(now=now))
    stdout.write(insiders_demo.seed(today=timezone.localdate(now)))
    stdout.write(calendar_demo.seed(now=now))
    for line in scores_demo.seed():
        stdout.write(line)
