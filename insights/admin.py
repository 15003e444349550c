"""Each insights area registers its own admin classes."""

import insights.calendar.admin
import insights.insiders.admin
import insights.news.admin
import insights.scores.admin  # noqa: F401
