"""Admin for the core's records (outbox, audit log) and the read-only bases the other admins share."""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.html import format_html

from broker.core.errors import Conflict
from broker.core.outbox import dispatch_event
from broker.models import AuditLog, OutboxEvent


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Why? (kept in the audit log)", strip=True)


def ask_reason(model_admin, request, *, title, intro, items, action, button, form, ids):
    """The page a moderation action shows to ask for its reason before it does anything (every
    moderation service requires one); posting it back with ``apply`` runs the action."""
    return render(
        request,
        "admin/ask_reason.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "items": items,
            "ids": ids,
            "action": action,
            "button": button,
            "form": form,
            "opts": model_admin.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        },
    )


def act_with_reason(model_admin, request, queryset, *, act, describe, title, intro, action, button, done):
    """A moderation bulk action: ask for the reason first (``ask_reason``), then ``act(obj,
    reason)`` on each selected object through its service. A refusal (``Conflict``,
    ``ValidationError``) is reported for that object and the others go on; ``done(n)`` says how
    many were acted on."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return ask_reason(
            model_admin,
            request,
            title=title,
            intro=intro,
            items=[describe(obj) for obj in queryset],
            action=action,
            button=button,
            form=form,
            ids=[obj.pk for obj in queryset],
        )
    acted = 0
    for obj in queryset:
        try:
            act(obj, form.cleaned_data["reason"])
            acted += 1
        except (Conflict, ValidationError) as error:
            model_admin.message_user(request, f"{obj}: {getattr(error, 'message', error)}", messages.ERROR)
    if acted:
        model_admin.message_user(request, done(acted), messages.SUCCESS)
    return None


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
    exclude = ["payload"]
    readonly_fields = ["payload_shown"]

    def get_queryset(self, request):
        # A large audience's parts carry their vendors (``intent.part``: tens of thousands of ids,
        # megabytes): the list never reads the payloads, the page shows them shortened.
        return super().get_queryset(request).defer("payload")

    @admin.display(description="payload")
    def payload_shown(self, event: OutboxEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(_shortened(event.payload), indent=2, ensure_ascii=False))

    @admin.action(description="Dispatch selected events again")
    def redispatch(self, request, queryset):
        for event in queryset.filter(processed_at__isnull=True):
            dispatch_event(event.pk)
        self.message_user(request, "Dispatched the unprocessed ones.", messages.SUCCESS)


SHOWN_ITEMS = 10


def _shortened(value: Any) -> Any:
    """``value`` with every list longer than ``SHOWN_ITEMS`` cut to its first items and a count
    of the rest."""
    if isinstance(value, dict):
        return {key: _shortened(item) for key, item in value.items()}
    if isinstance(value, list):
        shown = [_shortened(item) for item in value[:SHOWN_ITEMS]]
        return shown + [f"… and {len(value) - SHOWN_ITEMS:,} more"] if len(value) > SHOWN_ITEMS else shown
    return value


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_id"]
    list_select_related = ["actor"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "actor__email", "action"]
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
