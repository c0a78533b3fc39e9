"""Admin for the vendor side: vendors, keys, subscriptions, bids, threads, what vendors know of
customers, the inbox and the event log with its webhooks."""

from django.contrib import admin, messages

from broker.admin.core import ReadOnlyAdmin, ReadOnlyInline
from reputation.services import refresh_vendor_and_counterparties
from vendors.models import (
    AgreementRecord,
    ApiKey,
    Bid,
    BidRevision,
    Block,
    Delivery,
    Message,
    Pseudonym,
    Subscription,
    Vendor,
    VendorEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from vendors.services import approve_vendor, index_subscriptions, revoke_api_key, suspend_vendor
from vendors.webhooks import disable_endpoint


class ApiKeyInline(ReadOnlyInline):
    """Keys are issued with ``manage.py create_vendor``, which shows the key once."""

    model = ApiKey
    fields = ["prefix", "name", "created_at", "last_used_at", "revoked_at"]


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    fields = ["name", "active", "daily_cap"]
    show_change_link = True
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "contact_email", "created_at", "approved_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["name", "contact_email"]
    readonly_fields = ["status", "created_at", "approved_at"]
    filter_horizontal = ["users"]
    inlines = [ApiKeyInline, SubscriptionInline]
    actions = ["approve", "suspend"]

    @admin.action(description="Approve selected vendors")
    def approve(self, request, queryset):
        for vendor in queryset:
            approve_vendor(vendor=vendor, actor=request.user)
            refresh_vendor_and_counterparties(vendor_id=vendor.pk)  # a reinstated vendor's ratings count again
        self.message_user(request, f"Approved {queryset.count()} vendor(s).", messages.SUCCESS)

    @admin.action(description="Suspend selected vendors")
    def suspend(self, request, queryset):
        for vendor in queryset:
            suspend_vendor(vendor=vendor, actor=request.user, reason="suspended in admin")
            refresh_vendor_and_counterparties(vendor_id=vendor.pk)  # its ratings, given and received, stop counting
        self.message_user(request, f"Suspended {queryset.count()} vendor(s).", messages.WARNING)


API_KEY_FIELDS = ("vendor", "name", "prefix", "created_at", "last_used_at", "revoked_at")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "vendor", "name", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["vendor"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "vendor__name"]
    fields = API_KEY_FIELDS
    readonly_fields = API_KEY_FIELDS
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        for api_key in queryset.filter(revoked_at__isnull=True):
            revoke_api_key(api_key=api_key)
        self.message_user(request, "Revoked.", messages.SUCCESS)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "vendor", "active", "daily_cap", "min_budget", "min_budget_currency", "updated_at"]
    list_select_related = ["vendor"]
    list_filter = ["active", "categories"]
    search_fields = ["name", "vendor__name", "keywords"]
    autocomplete_fields = ["categories", "regions"]
    raw_id_fields = ["vendor"]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        index_subscriptions([form.instance])  # the matching index follows every change


class BidRevisionInline(ReadOnlyInline):
    model = BidRevision
    fields = ["amount", "currency", "message", "valid_until", "created_at"]


@admin.register(Bid)
class BidAdmin(admin.ModelAdmin):
    list_display = ["intent", "vendor", "amount", "currency", "status", "created_at", "decided_at"]
    list_select_related = ["intent", "vendor"]
    list_filter = ["status", "currency", "created_at"]
    search_fields = ["intent__title", "vendor__name", "id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["intent", "vendor"]
    readonly_fields = ["terms_accepted", "created_at", "updated_at", "decided_at"]
    inlines = [BidRevisionInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["intent", "vendor", "sender", "created_at"]
    list_select_related = ["intent", "vendor"]
    list_filter = ["sender", "created_at"]
    search_fields = ["body", "vendor__name", "intent__title"]
    raw_id_fields = ["intent", "vendor"]


@admin.register(Pseudonym)
class PseudonymAdmin(admin.ModelAdmin):
    list_display = ["handle", "vendor", "customer", "created_at"]
    list_select_related = ["vendor", "customer"]
    search_fields = ["handle", "vendor__name", "customer__email"]
    raw_id_fields = ["customer", "vendor"]
    readonly_fields = ["handle", "customer", "vendor", "created_at"]


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ["customer", "vendor", "blocked_by", "created_at"]
    list_select_related = ["customer", "vendor"]
    list_filter = ["blocked_by"]
    search_fields = ["customer__email", "vendor__name"]
    raw_id_fields = ["customer", "vendor"]


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


@admin.register(AgreementRecord)
class AgreementRecordAdmin(ReadOnlyAdmin):
    """Agreements reached: what moderators consult when a vendor is reported for breaking one."""

    list_display = ["agreement", "vendor", "customer_handle", "intent", "reached_at", "digest"]
    list_select_related = ["agreement", "vendor", "intent"]
    search_fields = ["customer_handle", "digest", "vendor__name"]
