from django.contrib import admin, messages

from broker.models import AuditLog, Delivery, OutboxEvent, VendorEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from broker.outbox import dispatch_event
from broker.webhooks import disable_endpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    """The pipeline's records: looked at, never edited by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent as a record: every field read-only, nothing added or removed."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ProcessedFilter(admin.SimpleListFilter):
    title = "processed"
    parameter_name = "processed"

    def lookups(self, request, model_admin):
        return [("yes", "Processed"), ("no", "Waiting")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(processed_at__isnull=self.value() == "no")
        return queryset


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "created_at", "dispatched_at", "processed_at", "attempts"]
    list_filter = [ProcessedFilter, "kind"]
    date_hierarchy = "created_at"
    actions = ["redispatch"]

    @admin.action(description="Dispatch selected events again")
    def redispatch(self, request, queryset):
        for event in queryset.filter(processed_at__isnull=True):
            dispatch_event(event.pk)
        self.message_user(request, "Dispatched the unprocessed ones.", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["intent", "vendor", "created_at", "seen_at", "passed_at"]
    list_select_related = ["intent", "vendor"]
    list_filter = ["created_at"]
    search_fields = ["intent__title", "vendor__name"]
    raw_id_fields = ["intent", "vendor", "subscription"]


@admin.register(VendorEvent)
class VendorEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "vendor", "kind", "subject", "created_at"]
    list_select_related = ["vendor"]
    list_filter = ["kind", "created_at"]
    search_fields = ["vendor__name", "subject"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "vendor", "active", "created_at", "disabled_at", "disabled_reason"]
    list_select_related = ["vendor"]
    list_filter = ["active"]
    search_fields = ["url", "vendor__name"]
    fields = ["vendor", "url", "events", "active", "created_at", "disabled_at", "disabled_reason"]
    readonly_fields = ["vendor", "url", "created_at", "disabled_at", "disabled_reason", "active"]
    actions = ["disable"]

    def has_add_permission(self, request) -> bool:
        return False  # vendors register endpoints through the API, which shows the secret once

    @admin.action(description="Disable selected endpoints")
    def disable(self, request, queryset):
        for endpoint in queryset.filter(active=True):
            disable_endpoint(endpoint=endpoint, reason="disabled by a moderator", actor=request.user)
        self.message_user(request, "Disabled.", messages.SUCCESS)


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["attempted_at", "succeeded", "response_status", "latency_ms", "error"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "endpoint", "status", "attempt_count", "next_attempt_at", "created_at"]
    list_select_related = ["event", "endpoint"]
    list_filter = ["status"]
    inlines = [WebhookAttemptInline]


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_id"]
    list_select_related = ["actor"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "actor__email", "action"]
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
