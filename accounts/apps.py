from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_site(sender, using: str = "default", **kwargs) -> None:
    """After every `migrate`: the site's domain follows SITE_URL (see `site_sync`)."""
    from django.conf import settings

    from accounts.services import site_sync

    if using == "default":
        site_sync(site_url=settings.SITE_URL, site_id=settings.SITE_ID)


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        post_migrate.connect(_sync_site, sender=self, dispatch_uid="accounts.sync_site")
