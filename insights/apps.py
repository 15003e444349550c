from __future__ import annotations

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"

    def ready(self) -> None:
        from insights.calendar import hooks as calendar_hooks
        from insights.insiders import hooks as insider_hooks
        from insights.news import hooks as news_hooks
        from insights.scores import hooks as score_hooks

        for hooks in (news_hooks, insider_hooks, calendar_hooks, score_hooks):
            hooks.register()
