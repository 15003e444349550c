from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from qunex.models import JobRun
from qunex.redaction import redact

_SHOWN_REDACTED = ("summary", "error", "arguments")


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """Read-only. Summary, error and arguments are shown through secret redaction, so a row
    written before redaction existed shows no key either."""

    # Short columns so the list fits 1280 px beside the admin's sidebar: the summary is cut
    # to one line (the whole text is its tooltip and on the run's own page).
    list_display = ("command", "status", "started", "took", "short_summary")
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

    @admin.display(description="Started", ordering="started_at")
    def started(self, run: JobRun) -> str:
        return (
            timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M") if run.started_at else "—"
        )

    @admin.display(description="Took")
    def took(self, run: JobRun) -> str:
        if not (run.started_at and run.finished_at):
            return "—"
        seconds = (run.finished_at - run.started_at).total_seconds()
        return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"

    @admin.display(description="Summary", ordering="summary")
    def short_summary(self, run: JobRun) -> str:
        text = redact(run.summary or "")
        return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(70))
