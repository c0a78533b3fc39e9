"""Admin for reports: the moderators' queue, oldest due first, with what is overdue against its
reason's expected response time. Each step (review, escalate, resolve, dismiss) goes through
``moderation.services``, which asks for the reason (told to both parties when it closes the
report) and audits it."""

from django.contrib import admin
from django.utils import timezone

from broker.admin.core import act_with_reason
from moderation.models import Report
from moderation.services import LIVE, dismiss_report, escalate_report, resolve_report, review_report


class OverdueFilter(admin.SimpleListFilter):
    title = "response time"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Within its time")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(status__in=LIVE, due_at__lt=now)
        if self.value() == "no":
            return queryset.filter(status__in=LIVE, due_at__gte=now)
        return queryset


STEPS = {
    "review": (review_report, "Take up for review", "These reports will be marked in review; both parties are told:"),
    "escalate": (
        escalate_report,
        "Escalate",
        "These reports will be escalated to a senior moderator; both parties are told:",
    ),
    "resolve": (
        resolve_report,
        "Resolve",
        "These reports will be closed as resolved. Your reason is the outcome both parties are told:",
    ),
    "dismiss": (
        dismiss_report,
        "Dismiss",
        "These reports will be closed as dismissed. Your reason is the outcome both parties are told:",
    ),
}


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["__str__", "reported_by", "subject", "vendor", "status", "created_at", "due_at", "overdue"]
    list_select_related = ["vendor"]
    list_filter = [OverdueFilter, "status", "reason", "subject", "reported_by"]
    search_fields = ["text", "outcome", "vendor__name", "customer__email", "id"]
    date_hierarchy = "created_at"
    ordering = ["due_at"]
    actions = list(STEPS)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Report._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # filed by the parties

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # moved only by the actions, which ask why and audit

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(boolean=True, description="overdue")
    def overdue(self, report: Report) -> bool:
        return report.status in LIVE and report.due_at < timezone.now()

    def _step(self, request, queryset, step: str):
        service, button, intro = STEPS[step]
        return act_with_reason(
            self,
            request,
            queryset,
            act=lambda report, reason: service(moderator=request.user, report=report, reason=reason),
            describe=lambda report: f"{report} about {report.vendor}: {report.text[:120]}",
            title=f"{button} reports",
            intro=intro,
            action=step,
            button=button,
            done=lambda n: f"{button}: {n} report(s).",
        )

    @admin.action(description="Take up selected reports for review (asks for a reason)")
    def review(self, request, queryset):
        return self._step(request, queryset, "review")

    @admin.action(description="Escalate selected reports (asks for a reason)")
    def escalate(self, request, queryset):
        return self._step(request, queryset, "escalate")

    @admin.action(description="Resolve selected reports (asks for the outcome)")
    def resolve(self, request, queryset):
        return self._step(request, queryset, "resolve")

    @admin.action(description="Dismiss selected reports (asks for the outcome)")
    def dismiss(self, request, queryset):
        return self._step(request, queryset, "dismiss")
