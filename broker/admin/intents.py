"""Admin for the customer side: the taxonomy, and customers' requests (removed only through the
deal, with a reason)."""

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count
from django.http import HttpRequest
from django.shortcuts import render

from intents.attributes import validate_schema
from intents.models import Agreement, Category, Intent, Region
from vendors.deal import remove_intent

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


class RemovalForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Why are these requests removed?")


@admin.register(Intent)
class IntentAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "category", "region", "customer", "bid_count", "created_at", "expires_at"]
    list_filter = ["status", "category", "created_at"]
    list_select_related = ["category", "region", "customer"]
    search_fields = ["title", "details", "customer__email", "id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["customer"]
    autocomplete_fields = ["region", "category"]
    readonly_fields = [
        "id",
        "customer",
        "attributes",
        "agreement",
        "terms",
        "created_at",
        "updated_at",
        "closed_at",
        "status",
        "removal_reason",
    ]
    actions = ["remove_requests"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(bid_total=Count("bids"))

    @admin.display(description="bids", ordering="bid_total")
    def bid_count(self, intent: "WithAnnotations[Intent, BidTotal]") -> int:
        return intent.bid_total

    def has_add_permission(self, request) -> bool:
        return False  # requests are the customers' own; moderators remove, they do not write

    @admin.action(description="Remove selected requests (asks for a reason)")
    def remove_requests(self, request, queryset):
        form = RemovalForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for intent in queryset:
                remove_intent(moderator=request.user, intent=intent, reason=form.cleaned_data["reason"])
            self.message_user(request, f"Removed {queryset.count()} request(s).", messages.SUCCESS)
            return None
        return render(
            request,
            "admin/intents/intent/remove.html",
            {
                **self.admin_site.each_context(request),
                "title": "Remove requests",
                "form": form,
                "intents": queryset,
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )
