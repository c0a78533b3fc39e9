"""``{% load notifications %}`` then ``{% unread_notifications as count %}``: how many of the
signed-in customer's notifications are unread, for the bell in the navigation."""

from __future__ import annotations

from typing import Any

from django import template

from intents.selectors import unread_notification_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context: dict[str, Any]) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return unread_notification_count(customer=user)
