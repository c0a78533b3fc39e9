"""``{% load accounts %}`` then ``{% vendor_login as flag %}``: whether the signed-in login acts,
or acted, for a vendor, for the navigation. On the customer's pages the middleware that keeps
vendors' logins off them has asked already (``broker.middleware``), and the page reuses its
answer instead of asking the database again."""

from __future__ import annotations

from typing import Any

from django import template

from vendors.team import is_vendor_account

register = template.Library()


@register.simple_tag(takes_context=True)
def vendor_login(context: dict[str, Any]) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    known = getattr(request, "vendor_login", None)
    return known if known is not None else is_vendor_account(user)
