from django.contrib import admin, messages

from reputation.models import Rating
from reputation.services import set_hidden


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["bid", "by", "score", "created_at", "revealed_at", "hidden_by_moderator"]
    list_select_related = ["bid__vendor", "bid__intent"]
    list_filter = ["by", "score", "hidden_by_moderator"]
    search_fields = ["comment", "bid__vendor__name"]
    raw_id_fields = ["bid"]
    readonly_fields = ["bid", "by", "score", "comment", "created_at", "revealed_at", "hidden_by_moderator"]
    actions = ["hide", "show"]

    def has_add_permission(self, request) -> bool:
        return False  # ratings come only from real deals

    def _set_hidden(self, request, queryset, hidden: bool) -> None:
        for rating in queryset:
            set_hidden(rating=rating, hidden=hidden, moderator=request.user)
        self.message_user(request, f"{'Hidden' if hidden else 'Shown'}: {queryset.count()}.", messages.SUCCESS)

    @admin.action(description="Hide selected ratings (abusive)")
    def hide(self, request, queryset):
        self._set_hidden(request, queryset, True)

    @admin.action(description="Show selected ratings again")
    def show(self, request, queryset):
        self._set_hidden(request, queryset, False)
