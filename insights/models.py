"""Insights models live in one module per area; Django finds them through this module.

Each area module defines `__all__` with its model classes.
"""

from insights.calendar.models import *  # noqa: F403
from insights.insiders.models import *  # noqa: F403
from insights.news.models import *  # noqa: F403
from insights.scores.models import *  # noqa: F403
