from __future__ import annotations

import insights.news.analysis.admin  # noqa: F401
