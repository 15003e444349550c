from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.authtoken.models import Token


@dataclass(frozen=True)
class AccountSecurity:
    email: str
    email_verified: bool
    totp_enabled: bool
    recovery_codes_left: int | None
    token: Token | None


def account_security(*, user: AbstractBaseUser) -> AccountSecurity:
    """What the profile page says about sign-in safety: 3 queries (email, authenticators, token)."""
    address = EmailAddress.objects.filter(user=user).order_by("-primary", "-verified", "pk").first()
    authenticators = {a.type: a for a in Authenticator.objects.filter(user=user)}
    codes = authenticators.get(Authenticator.Type.RECOVERY_CODES)
    return AccountSecurity(
        email=address.email if address else user.email,
        email_verified=bool(address and address.verified),
        totp_enabled=Authenticator.Type.TOTP in authenticators,
        recovery_codes_left=len(codes.wrap().get_unused_codes()) if codes else None,
        token=Token.objects.filter(user=user).first(),
    )
