"""Each insights area registers its own admin classes."""

import insights.calendar.admin  # noqa: F401
import insights.insiders.admin  # noqa: F401
import insights.news.admin  # noqa: F401
import insights.scores.admin  # noqa: F401
