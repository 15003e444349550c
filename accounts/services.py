from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import Profile


def profile_get(*, user: AbstractBaseUser) -> Profile:
    """The user's profile, created with the defaults (UTC) the first time it is asked for."""
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def profile_update(*, user: AbstractBaseUser, timezone: str) -> Profile:
    """Set the zone times are shown in; an unknown zone raises ValidationError naming `timezone`."""
    profile = profile_get(user=user)
    profile.timezone = timezone
    profile.timezone_chosen = True
    profile.full_clean(exclude=["user"])
    profile.save(update_fields=["timezone", "timezone_chosen"])
    return profile


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser) -> Token:
    """A new API token for the user; any earlier token stops working."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


@transaction.atomic
def api_token_revoke(*, user: AbstractBaseUser) -> bool:
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
