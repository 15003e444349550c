from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import ProfileForm
from accounts.middleware import SESSION_KEY

SHOW_ONCE_SESSION_KEY = "new_api_token"


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    profile = services.profile_get(user=request.user)
    # Not picked yet: offer the zone the pages already use (the browser's).
    auto = getattr(request, "timezone_auto", False)
    initial = {"timezone": request.timezone_name} if auto else None
    form = ProfileForm(request.POST or None, instance=profile, initial=initial)
    if request.method == "POST" and form.is_valid():
        tzname = form.cleaned_data["timezone"]
        services.profile_update(user=request.user, timezone=tzname)
        request.session[SESSION_KEY] = tzname
        messages.success(request, f"Saved. Times are now shown in {tzname}.")
        return redirect("accounts:profile")
    context = {
        "form": form,
        "security": selectors.account_security(user=request.user),
        "new_key": request.session.pop(SHOW_ONCE_SESSION_KEY, None),
        "now": timezone.now(),
        "timezone_auto": auto,
    }
    return render(request, "accounts/profile.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    token = services.api_token_create(user=request.user)
    request.session[SHOW_ONCE_SESSION_KEY] = token.key
    messages.success(request, "New API token created. Copy it now: it is shown only once.")
    return redirect("accounts:profile")


@login_required
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    if services.api_token_revoke(user=request.user):
        messages.success(request, "API token revoked. Integrations using it stop working now.")
    else:
        messages.info(request, "There was no API token to revoke.")
    return redirect("accounts:profile")
