"""Admin for reports: the moderators' queue, oldest due first, with what is overdue against its
reason's expected response time. Each step (review, escalate, resolve, dismiss) goes through
``moderation.services``, which asks for the reason (told to both parties when it closes the
report) and audits it."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from broker.admin.core import ReasonForm, ask_reason
from broker.core.errors import Conflict
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
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for report in queryset:
                try:
                    service(moderator=request.user, report=report, reason=form.cleaned_data["reason"])
                    done += 1
                except (Conflict, ValidationError) as error:
                    self.message_user(request, f"{report}: {getattr(error, 'message', error)}", messages.ERROR)
            if done:
                self.message_user(request, f"{button}: {done} report(s).", messages.SUCCESS)
            return None
        return ask_reason(
            self,
            request,
            title=f"{button} reports",
            intro=intro,
            items=[f"{report} about {report.vendor}: {report.text[:120]}" for report in queryset],
            action=step,
            button=button,
            form=form,
            ids=[report.pk for report in queryset],
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
