"""Admin for reputation: ratings (hide abusive ones), the stored scores (read-only), links
between accounts that are one party, and the review queue of suspected rating rings. Every
decision goes through a ``reputation.services`` function that demands a reason and audits it."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from broker.admin.core import ReadOnlyAdmin, ReasonForm, act_with_reason, ask_reason
from broker.core.errors import Conflict
from reputation.models import AccountLink, CustomerScore, MarketPrior, Rating, RingFlag, VendorScore
from reputation.selectors import customer_behaviour, vendor_behaviour
from reputation.services import decide_ring, link_accounts, set_hidden, unlink_accounts


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["bid", "by", "score", "created_at", "revealed_at", "hidden_by_moderator", "review"]
    list_select_related = ["bid__vendor", "bid__intent"]
    list_filter = ["by", "score", "hidden_by_moderator", "review"]
    search_fields = ["comment", "bid__vendor__name"]
    raw_id_fields = ["bid"]
    readonly_fields = [
        "bid",
        "by",
        "score",
        "comment",
        "created_at",
        "revealed_at",
        "hidden_by_moderator",
        "review",
        "ring",
    ]
    actions = ["hide", "show"]

    def has_add_permission(self, request) -> bool:
        return False  # ratings come only from real deals

    def _set_hidden(self, request, queryset, hidden: bool):
        return act_with_reason(
            self,
            request,
            queryset,
            act=lambda rating, reason: set_hidden(rating=rating, hidden=hidden, moderator=request.user, reason=reason),
            describe=lambda rating: f"{rating.get_by_display()}: {rating.score} / 5 {rating.comment[:80]}",
            title="Hide ratings" if hidden else "Show ratings again",
            intro="These ratings will stop counting towards reputation:"
            if hidden
            else "These ratings will count towards reputation again:",
            action="hide" if hidden else "show",
            button="Hide the ratings" if hidden else "Show the ratings",
            done=lambda n: f"{'Hidden' if hidden else 'Shown'}: {n}.",
        )

    @admin.action(description="Hide selected ratings (abusive; asks for a reason)")
    def hide(self, request, queryset):
        return self._set_hidden(request, queryset, True)

    @admin.action(description="Show selected ratings again (asks for a reason)")
    def show(self, request, queryset):
        return self._set_hidden(request, queryset, False)


class ScoreAdmin(ReadOnlyAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # recomputed, never removed by hand


@admin.register(VendorScore)
class VendorScoreAdmin(ScoreAdmin):
    """Computed by reputation.services (on every reveal, and in full every hour)."""

    list_display = ["vendor", "ratings", "score", "rank_score", "weight", "computed_at"]
    list_select_related = ["vendor"]
    search_fields = ["vendor__name"]
    ordering = ["-rank_score"]
    readonly_fields = ["behaviour"]

    @admin.display(description="behaviour (stored: see docs/reputation.md for how fresh)")
    def behaviour(self, score: VendorScore) -> str:
        b = vendor_behaviour([score.vendor_id])[score.vendor_id]
        answered = f"{b['answered_share']:.0%}" if b["answered_share"] is not None else "n/a"
        return (
            f"answered {answered} of {b['deliveries_due']} due; median hours to first offer "
            f"{b['median_hours_to_offer'] if b['median_hours_to_offer'] is not None else 'n/a'}; deals completed "
            f"{b['deals_completed']}, fell through {b['deals_fell_through']} ({b['deals_backed_out']} by the vendor)"
        )


@admin.register(CustomerScore)
class CustomerScoreAdmin(ScoreAdmin):
    list_display = ["customer", "ratings", "score", "rank_score", "weight", "computed_at"]
    list_select_related = ["customer"]
    search_fields = ["customer__email"]
    ordering = ["-rank_score"]
    readonly_fields = ["behaviour"]

    @admin.display(description="behaviour (stored: see docs/reputation.md for how fresh)")
    def behaviour(self, score: CustomerScore) -> str:
        b = customer_behaviour([score.customer_id])[score.customer_id]
        decided = f"{b['decided_share']:.0%}" if b["decided_share"] is not None else "n/a"
        return f"decided {decided} of {b['requests_closed']} closed requests; deals completed {b['deals_completed']}"


@admin.register(MarketPrior)
class MarketPriorAdmin(ScoreAdmin):
    list_display = ["side", "mean", "variance", "ratings", "computed_at"]


class AccountLinkForm(forms.ModelForm):
    class Meta:
        model = AccountLink
        fields = ["user", "vendor", "reason"]


@admin.register(AccountLink)
class AccountLinkAdmin(admin.ModelAdmin):
    """A customer account and a vendor that are one party: they cannot rate each other, and the
    ratings between them stop counting. Added and removed through the services (audited)."""

    form = AccountLinkForm
    list_display = ["user", "vendor", "reason", "created_by", "created_at"]
    list_select_related = ["user", "vendor", "created_by"]
    search_fields = ["user__email", "vendor__name", "reason"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["vendor"]
    readonly_fields = ["created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "user", "vendor"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        link = link_accounts(user=obj.user, vendor=obj.vendor, reason=obj.reason, moderator=request.user)
        obj.pk = link.pk

    actions = ["remove_links"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # removed only by the action below, which asks why

    @admin.action(description="Remove selected links: their ratings count again (asks for a reason)")
    def remove_links(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for link in queryset:
                unlink_accounts(link=link, moderator=request.user, reason=form.cleaned_data["reason"])
            self.message_user(request, f"Removed {queryset.count()} link(s).", messages.SUCCESS)
            return None
        return ask_reason(
            self,
            request,
            title="Remove account links",
            intro="These accounts will no longer be treated as one party; the ratings between them count again:",
            items=[f"{link.user} and {link.vendor}: {link.reason}" for link in queryset],
            action="remove_links",
            button="Remove the links",
            form=form,
            ids=[link.pk for link in queryset],
        )


@admin.register(RingFlag)
class RingFlagAdmin(admin.ModelAdmin):
    """The review queue: suspected rating rings, whose ratings do not count until decided."""

    list_display = ["__str__", "vendor", "status", "rating_count", "created_at", "decided_by", "decided_at"]
    list_select_related = ["vendor", "decided_by"]
    list_filter = ["status", "created_at"]
    search_fields = ["vendor__name", "summary", "decision_reason"]
    readonly_fields = ["vendor", "status", "summary", "created_at", "decided_at", "decided_by", "decision_reason"]
    actions = ["clear", "confirm"]

    def has_add_permission(self, request) -> bool:
        return False  # the detector opens flags

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # decided, never deleted

    @admin.display(description="ratings held")
    def rating_count(self, flag: RingFlag) -> int:
        return flag.ratings.count()

    def _decide(self, request, queryset, *, confirm: bool, action: str):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            decided = 0
            for flag in queryset:
                try:
                    decide_ring(flag=flag, confirm=confirm, reason=form.cleaned_data["reason"], moderator=request.user)
                    decided += 1
                except (Conflict, ValidationError) as error:
                    self.message_user(request, f"{flag}: {error}", messages.ERROR)
            if decided:
                verb = "Confirmed (ratings never count)" if confirm else "Cleared (ratings count again)"
                self.message_user(request, f"{verb}: {decided} ring(s).", messages.SUCCESS)
            return None
        return ask_reason(
            self,
            request,
            title="Confirm suspected rings" if confirm else "Clear suspected rings",
            intro="The ratings in these rings will never count towards anyone's reputation:"
            if confirm
            else "The ratings in these rings will count again:",
            items=[f"{flag.vendor}: {flag.summary} ({flag.get_status_display()})" for flag in queryset],
            action=action,
            button="Confirm the rings" if confirm else "Clear the rings",
            form=form,
            ids=[flag.pk for flag in queryset],
        )

    @admin.action(description="Clear selected rings: their ratings count again (asks for a reason)")
    def clear(self, request, queryset):
        return self._decide(request, queryset, confirm=False, action="clear")

    @admin.action(description="Confirm selected rings: their ratings never count (asks for a reason)")
    def confirm(self, request, queryset):
        return self._decide(request, queryset, confirm=True, action="confirm")
