"""Admin for the vendor side: vendors, keys, subscriptions, bids, threads, what vendors know of
customers, the inbox and the event log with its webhooks."""

from allauth.account.models import EmailAddress
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, transaction

from broker.admin.core import ReadOnlyAdmin, ReadOnlyInline, act_with_reason, ask_reason
from broker.core.errors import Conflict
from moderation.services import reinstate_vendor, suspend_vendor
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
    VendorInvitation,
    VendorMembership,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from vendors.services import approve_vendor, index_subscriptions, reject_vendor, revoke_api_key
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


class MembershipInline(ReadOnlyInline):
    """The vendor's people; owners invite and remove them in the vendor area."""

    model = VendorMembership
    fields = ["user", "role", "created_at", "removed_at"]


class InvitationInline(ReadOnlyInline):
    model = VendorInvitation
    fields = ["email", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]


class ApprovalQueueFilter(admin.SimpleListFilter):
    """The approval queue: businesses that signed up and wait for a decision, oldest first."""

    title = "approval queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("awaiting", "Awaiting approval")]

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(status=Vendor.Status.PENDING).order_by("created_at")
        return queryset


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        required=False,
        help_text="Emailed to the vendor: say what is missing or wrong.",
    )


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "contact_email", "email_confirmed", "website", "created_at", "approved_at"]
    list_filter = [ApprovalQueueFilter, "status", "created_at"]
    search_fields = ["name", "contact_email"]
    readonly_fields = ["status", "created_at", "approved_at", "rejected_at", "rejection_reason"]
    autocomplete_fields = ["categories", "regions"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [MembershipInline, InvitationInline, ApiKeyInline, SubscriptionInline]
    actions = ["approve", "reject", "suspend", "reinstate"]

    @admin.display(boolean=True, description="email confirmed")
    def email_confirmed(self, vendor) -> bool:
        """Whether the contact address was confirmed through allauth's link (check before approving)."""
        return EmailAddress.objects.filter(email__iexact=vendor.contact_email, verified=True).exists()

    @admin.action(description="Reject selected vendors (with a reason, emailed to them)")
    def reject(self, request, queryset):
        """An intermediate page asks for the reason; every vendor is turned down through
        ``reject_vendor`` in one transaction, or none is."""
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                with transaction.atomic():
                    for vendor in queryset:
                        reject_vendor(vendor=vendor, reason=form.cleaned_data["reason"], actor=request.user)
            except ValidationError as error:
                for messages_ in error.message_dict.values():
                    for message in messages_:
                        form.add_error("reason", message)
            else:
                self.message_user(request, f"Rejected {queryset.count()} vendor(s); each was emailed the reason.")
                return None
        return ask_reason(
            self,
            request,
            title="Reject vendors",
            intro="Turn down these businesses. Each is emailed the reason and can no longer open the vendor area:",
            items=[f"{v.name} ({v.contact_email}, {v.get_status_display()})" for v in queryset],
            action="reject",
            button="Reject and email the reason",
            form=form,
            ids=[v.pk for v in queryset],
        )

    @admin.action(description="Approve selected vendors")
    def approve(self, request, queryset):
        approved = 0
        for vendor in queryset:
            try:
                approve_vendor(vendor=vendor, actor=request.user)
            except Conflict as error:
                self.message_user(request, error.message, messages.ERROR)
                continue
            refresh_vendor_and_counterparties(vendor_id=vendor.pk)  # a rejected vendor's ratings count again
            approved += 1
        if approved:
            self.message_user(request, f"Approved {approved} vendor(s).", messages.SUCCESS)

    def _moderate(self, request, queryset, *, suspend: bool):
        """Suspend or reinstate through ``moderation.services`` (audited), after asking why."""
        service = suspend_vendor if suspend else reinstate_vendor
        return act_with_reason(
            self,
            request,
            queryset,
            act=lambda vendor, reason: service(moderator=request.user, vendor=vendor, reason=reason),
            describe=lambda vendor: f"{vendor.name} ({vendor.get_status_display()})",
            title="Suspend vendors" if suspend else "Reinstate vendors",
            intro="These vendors will lose API access, their subscriptions will be paused, their active offers "
            "withdrawn by moderation (each customer told) and their ratings will stop counting:"
            if suspend
            else "These vendors will be approved again; the subscriptions their suspension paused resume:",
            action="suspend" if suspend else "reinstate",
            button="Suspend" if suspend else "Reinstate",
            done=lambda n: f"{'Suspended' if suspend else 'Reinstated'} {n} vendor(s).",
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


@admin.register(AgreementRecord)
class AgreementRecordAdmin(ReadOnlyAdmin):
    """Agreements reached: what moderators consult when a vendor is reported for breaking one."""

    list_display = ["agreement", "vendor", "customer_handle", "intent", "reached_at", "digest"]
    list_select_related = ["agreement", "vendor", "intent"]
    search_fields = ["customer_handle", "digest", "vendor__name"]
