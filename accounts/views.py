from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.forms import ProfileForm
from accounts.middleware import SESSION_KEY


@login_required
def profile(request):
    profile = services.profile_get(user=request.user)
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=request.user, timezone=form.cleaned_data["timezone"])
        request.session[SESSION_KEY] = form.cleaned_data["timezone"]
        messages.success(request, "Saved. Times are now shown in " + form.cleaned_data["timezone"] + ".")
        return redirect("accounts:profile")
    token = Token.objects.filter(user=request.user).first()
    new_key = request.session.pop("new_api_token", None)
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "token": token, "new_key": new_key},
    )


@login_required
@require_POST
def token_create(request):
    token = services.api_token_create(user=request.user)
    request.session["new_api_token"] = token.key
    messages.success(request, "New API token created. Copy it now: it is shown only once.")
    return redirect("accounts:profile")


@login_required
@require_POST
def token_revoke(request):
    if services.api_token_revoke(user=request.user):
        messages.success(request, "API token revoked. Integrations using it stop working now.")
    return redirect("accounts:profile")
