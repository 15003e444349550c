from django.contrib import admin

from accounts.models import Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "timezone")
    list_filter = ("timezone",)
    search_fields = ("user__email", "user__username")
    raw_id_fields = ("user",)
