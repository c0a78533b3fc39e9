"""Admin for the vendor side: vendors, keys, subscriptions, bids, threads, what vendors know of
customers, the inbox and the event log with its webhooks."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from broker.admin.core import ReadOnlyAdmin, ReadOnlyInline, ReasonForm, ask_reason
from broker.core.errors import Conflict
from moderation.services import reinstate_vendor, suspend_vendor
from reputation.services import refresh_vendor_and_counterparties
from vendors.models import (
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
from vendors.services import approve_vendor, index_subscriptions, revoke_api_key
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
    actions = ["approve", "suspend", "reinstate"]

    @admin.action(description="Approve selected vendors")
    def approve(self, request, queryset):
        for vendor in queryset:
            approve_vendor(vendor=vendor, actor=request.user)
            refresh_vendor_and_counterparties(vendor_id=vendor.pk)  # a reinstated vendor's ratings count again
        self.message_user(request, f"Approved {queryset.count()} vendor(s).", messages.SUCCESS)

    def _moderate(self, request, queryset, *, suspend: bool):
        """Suspend or reinstate through ``moderation.services`` (audited), after asking why."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            service = suspend_vendor if suspend else reinstate_vendor
            done = 0
            for vendor in queryset:
                try:
                    service(moderator=request.user, vendor=vendor, reason=form.cleaned_data["reason"])
                    done += 1
                except (Conflict, ValidationError) as error:
                    self.message_user(request, f"{vendor}: {getattr(error, 'message', error)}", messages.ERROR)
            if done:
                verb = "Suspended" if suspend else "Reinstated"
                self.message_user(
                    request, f"{verb} {done} vendor(s).", messages.WARNING if suspend else messages.SUCCESS
                )
            return None
        return ask_reason(
            self,
            request,
            title="Suspend vendors" if suspend else "Reinstate vendors",
            intro="These vendors will lose API access, their subscriptions will be paused, their active offers "
            "withdrawn by moderation (each customer told) and their ratings will stop counting:"
            if suspend
            else "These vendors will be approved again; the subscriptions their suspension paused resume:",
            items=[f"{vendor.name} ({vendor.get_status_display()})" for vendor in queryset],
            action="suspend" if suspend else "reinstate",
            button="Suspend" if suspend else "Reinstate",
            form=form,
            ids=[vendor.pk for vendor in queryset],
        )

    @admin.action(description="Suspend selected vendors (asks for a reason)")
    def suspend(self, request, queryset):
        return self._moderate(request, queryset, suspend=True)

    @admin.action(description="Reinstate selected suspended vendors (asks for a reason)")
    def reinstate(self, request, queryset):
        return self._moderate(request, queryset, suspend=False)


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
