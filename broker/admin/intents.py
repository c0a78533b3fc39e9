"""Admin for the customer side: the taxonomy, customers' requests (read-only: never edited, never
deleted; removed or, when a review rule held them, released only through the deal's services,
with a reason), and the review rules that hold a new request before it is cast."""

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest

from broker.admin.core import act_with_reason
from intents.attributes import validate_schema
from intents.models import Agreement, Category, Intent, Region, ReviewRule
from intents.review import clean_rule
from vendors.deal import release_intent, remove_intent

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class BidTotal(TypedDict):
    """What ``IntentAdmin.get_queryset`` annotates."""

    bid_total: int


class CategoryForm(forms.ModelForm):
    """``parent`` is not a column (the tree is treebeard's): saving adds the category below it,
    or moves it there with its descendants (``Category.save``)."""

    parent = forms.ModelChoiceField(queryset=Category.objects.order_by("path"), required=False)

    class Meta:
        model = Category
        fields = ["slug", "name", "attributes"]

    field_order = ["parent", "slug", "name", "attributes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["parent"].initial = self.instance.parent

    def clean_attributes(self):
        return validate_schema(self.cleaned_data["attributes"])

    def clean_parent(self):
        parent = self.cleaned_data["parent"]
        if parent is not None and self.instance.pk and parent.path.startswith(self.instance.path):
            raise forms.ValidationError("A category cannot be moved below itself or its own descendants.")
        return parent

    def save(self, commit: bool = True) -> Category:
        self.instance.parent = self.cleaned_data["parent"]
        return super().save(commit)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ["name", "slug", "parent", "path", "attribute_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["path", "depth", "numchild"]

    def has_delete_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        return obj is None or not obj.numchild  # a category with subcategories is kept (Category.delete)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would take whole subtrees with it
        return actions

    @admin.display(description="attributes")
    def attribute_count(self, category: Category) -> int:
        return len(category.attributes)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    """Loaded from pycountry by ``manage.py load_taxonomy``; not edited by hand."""

    list_display = ["code", "name", "kind", "subdivision_type", "parent"]
    list_select_related = ["parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    """The roster of standard agreements. A version is immutable once used (a request proffered
    it, a vendor proposed it): its content is read-only and it cannot be deleted; to change it,
    add a new version with the same code. ``offered`` may change at any time."""

    list_display = ["title", "code", "version", "offered", "first_used_at", "created_at"]
    list_filter = ["offered", "code"]
    search_fields = ["code", "title", "summary"]
    ordering = ["code", "-version"]

    def get_readonly_fields(self, request: HttpRequest, obj: Agreement | None = None) -> list[str]:
        used = obj is not None and obj.is_used
        return [*Agreement.CONTENT_FIELDS, "first_used_at", "created_at"] if used else ["first_used_at", "created_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Agreement | None = None) -> bool:
        return obj is not None and not obj.is_used  # never in bulk; a used version is cited by records

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Intent)
class IntentAdmin(admin.ModelAdmin):
    """Customers' requests, for moderators to look at: no field can be changed and none deleted
    (a hard delete would leave vendors holding a request nobody told them was gone). The actions
    remove a request (vendors get ``intent.withdrawn``, reason ``moderation``; she gets the reason)
    or release one a review rule held (it is cast); both ask for the reason first."""

    list_display = ["title", "status", "category", "region", "customer", "bid_count", "created_at", "expires_at"]
    list_filter = ["status", "category", "created_at"]
    list_select_related = ["category", "region", "customer"]
    search_fields = ["title", "details", "customer__email", "id"]
    date_hierarchy = "created_at"
    actions = ["remove_requests", "release_requests"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(bid_total=Count("bids"))

    @admin.display(description="bids", ordering="bid_total")
    def bid_count(self, intent: "WithAnnotations[Intent, BidTotal]") -> int:
        return intent.bid_total

    def has_add_permission(self, request) -> bool:
        return False  # requests are the customers' own; moderators remove, they do not write

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # read-only: shown, never edited

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # removed through the action below, which tells vendors and her, never deleted

    def _act(self, request, queryset, *, action: str, service, verb: str, title: str, intro: str, button: str):
        return act_with_reason(
            self,
            request,
            queryset,
            act=lambda intent, reason: service(moderator=request.user, intent=intent, reason=reason),
            describe=lambda intent: f"{intent.title} ({intent.get_status_display()})",
            title=title,
            intro=intro,
            action=action,
            button=button,
            done=lambda n: f"{verb} {n} request(s).",
        )

    @admin.action(description="Remove selected requests (asks for a reason)")
    def remove_requests(self, request, queryset):
        return self._act(
            request,
            queryset,
            action="remove_requests",
            service=remove_intent,
            verb="Removed",
            title="Remove requests",
            intro="These requests will be removed, their open offers withdrawn by moderation, the vendors told and "
            "the customer sent your reason:",
            button="Remove",
        )

    @admin.action(description="Release selected held requests: cast them to vendors (asks for a reason)")
    def release_requests(self, request, queryset):
        return self._act(
            request,
            queryset,
            action="release_requests",
            service=release_intent,
            verb="Released",
            title="Release held requests",
            intro="These requests were held by a review rule; released, they are cast to the vendors that match:",
            button="Release",
        )

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Intent._meta.fields]


class ReviewRuleForm(forms.ModelForm):
    class Meta:
        model = ReviewRule
        fields = ["kind", "text", "count", "amount", "currency", "active", "note"]

    def clean(self):
        data = super().clean() or {}
        if "kind" in data:
            try:
                data.update(
                    clean_rule(
                        kind=data["kind"],
                        text=data.get("text") or "",
                        count=data.get("count"),
                        amount=data.get("amount"),
                        currency=data.get("currency") or "",
                    )
                )
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, problems)
        return data


@admin.register(ReviewRule)
class ReviewRuleAdmin(admin.ModelAdmin):
    """The rules that hold a new request for review before it is cast (docs/moderation.md)."""

    form = ReviewRuleForm
    list_display = ["__str__", "kind", "active", "note", "updated_at"]
    list_filter = ["kind", "active"]
    search_fields = ["text", "note"]
