from django.contrib import admin

from accounts.models import Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "timezone")
    list_filter = ("timezone",)
    search_fields = ("user__email", "user__username")
    raw_id_fields = ("user",)


# One "Accounts" section on the admin index: users and groups (auth), e-mail addresses
# (allauth), 2FA authenticators (mfa), API tokens (authtoken) and profiles were five sections,
# two of them both called "Accounts".
ACCOUNT_APP_LABELS = frozenset({"accounts", "auth", "account", "mfa", "authtoken"})
_site_app_list = admin.site.get_app_list


def get_app_list(request, app_label=None):
    apps = _site_app_list(request, app_label)
    if app_label is not None:
        return apps
    grouped = [a for a in apps if a["app_label"] in ACCOUNT_APP_LABELS]
    if len(grouped) < 2:
        return apps
    home = next((a for a in grouped if a["app_label"] == "accounts"), grouped[0])
    merged = {
        **home,
        "name": "Accounts",
        "models": sorted((m for a in grouped for m in a["models"]), key=lambda m: m["name"]),
    }
    first = apps.index(grouped[0])
    rest = [a for a in apps if a["app_label"] not in ACCOUNT_APP_LABELS]
    return [*rest[:first], merged, *rest[first:]]


admin.site.get_app_list = get_app_list
