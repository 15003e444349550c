from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import Profile


def profile_get(*, user: AbstractBaseUser) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def profile_update(*, user: AbstractBaseUser, timezone: str) -> Profile:
    profile = profile_get(user=user)
    profile.timezone = timezone
    profile.full_clean()
    profile.save(update_fields=["timezone"])
    return profile


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser) -> Token:
    """A new API token for the user; any earlier token stops working."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def api_token_revoke(*, user: AbstractBaseUser) -> bool:
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
