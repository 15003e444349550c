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


@transaction.atomic
def admin_user_create(*, email: str, password: str) -> tuple[AbstractBaseUser, bool]:
    """A staff superuser who can sign in at once: the email is stored as verified and primary
    (mandatory verification would otherwise stop the first login at "confirm your email").
    An existing account with that email is promoted and given the password. Returns (user,
    created). The password must pass the sign-up rules (ValidationError otherwise)."""
    from allauth.account.adapter import get_adapter
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    User = get_user_model()
    email = email.strip().lower()  # as allauth stores addresses
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if user is None:
        user = User(username=_free_username(email), email=email)
    get_adapter().clean_password(password, user=user)  # allauth's length + validators
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    EmailAddress.objects.filter(user=user).exclude(email__iexact=email).update(primary=False)
    EmailAddress.objects.update_or_create(
        user=user, email__iexact=email, defaults={"email": email, "verified": True, "primary": True}
    )
    return user, created


def _free_username(email: str) -> str:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    base = (email.split("@")[0] or "admin")[:140]
    name, n = base, 1
    while User.objects.filter(username=name).exists():
        n += 1
        name = f"{base}{n}"
    return name


def site_sync(*, site_url: str, site_id: int, name: str = "Qunex") -> bool:
    """Make the Sites framework's site `site_id` name SITE_URL's host (emails say "Hello
    from 127.0.0.1:8000", not "example.com"). Idempotent; returns whether anything changed."""
    from urllib.parse import urlsplit

    from django.contrib.sites.models import Site

    domain = urlsplit(site_url).netloc or site_url
    site = Site.objects.filter(pk=site_id).first()
    if site is not None and (site.domain, site.name) == (domain, name):
        return False
    Site.objects.update_or_create(pk=site_id, defaults={"domain": domain, "name": name})
    Site.objects.clear_cache()
    return True
