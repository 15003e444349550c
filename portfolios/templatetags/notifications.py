"""`{% load notifications %}{% unread_notifications as n %}`: the top bar's unread count."""

from __future__ import annotations

from django import template

from portfolios import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """Unread notifications of the signed-in user (0 when signed out); cached per user."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return selectors.unread_count(user=user)
