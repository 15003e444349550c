from __future__ import annotations

from django import template
from django.urls import reverse

register = template.Library()

# (label, url name, path prefixes that mark the item as the current page)
NAV = [
    ("Profile and API token", "accounts:profile", ()),
    ("Email addresses", "account_email", ()),
    ("Password", "account_change_password", ("/accounts/password/set/",)),
    ("Two-factor authentication", "mfa_index", ("/accounts/2fa/",)),
]


@register.inclusion_tag("accounts/_nav.html", takes_context=True)
def account_nav(context: template.Context) -> dict:
    """The account settings menu, with the current page marked for screen readers and CSS."""
    path = context["request"].path
    items = []
    for label, name, prefixes in NAV:
        url = reverse(name)
        active = path == url or any(path.startswith(prefix) for prefix in prefixes)
        items.append({"label": label, "url": url, "active": active})
    return {"items": items}
