from django.contrib import admin

from qunex.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("command", "status", "started_at", "finished_at", "summary")
    list_filter = ("status", "command")
    search_fields = ("command", "summary", "error")
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in JobRun._meta.fields]

    def has_add_permission(self, request):
        return False
