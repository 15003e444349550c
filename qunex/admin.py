from django.contrib import admin

from qunex.models import JobRun
from qunex.redaction import redact

_SHOWN_REDACTED = ("summary", "error", "arguments")


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """Read-only. Summary, error and arguments are shown through secret redaction, so a row
    written before redaction existed shows no key either."""

    list_display = ("command", "status", "started_at", "finished_at", "redacted_summary")
    list_filter = ("status", "command")
    search_fields = ("command", "summary", "error")
    date_hierarchy = "started_at"
    fields = [
        *(f.name for f in JobRun._meta.fields if f.name not in (*_SHOWN_REDACTED, "id")),
        "redacted_arguments",
        "redacted_summary",
        "redacted_error",
    ]
    readonly_fields = fields

    @admin.display(description="summary")
    def redacted_summary(self, run: JobRun) -> str:
        return redact(run.summary)

    @admin.display(description="error")
    def redacted_error(self, run: JobRun) -> str:
        return redact(run.error)

    @admin.display(description="arguments")
    def redacted_arguments(self, run: JobRun) -> str:
        return redact(run.arguments)

    def has_add_permission(self, request):
        return False
