"""Who may open the vendor area: a login that acts for a vendor now (``VendorMembership``), of a
vendor that is approved (a pending one sees its dashboard only; a rejected or suspended one
nothing). A customer's account never opens it, and a removed member no longer does."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from vendors.models import Vendor
from vendors.team import current_membership, is_vendor_account


def refuse(request: HttpRequest, template: str, context: dict[str, Any] | None = None) -> HttpResponse:
    return render(request, f"vendor_site/{template}", context or {}, status=403)


def vendor_area(*, owner: bool = False, pending: bool = False) -> Callable:
    """Decorate a vendor-area view: ``request.vendor`` and ``request.membership`` are set.
    ``owner``: owners only; ``pending``: a vendor still awaiting approval may open it too."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not is_vendor_account(user):
                return refuse(request, "customer_account.html")
            membership = current_membership(user)
            if membership is None:
                return refuse(request, "removed.html")
            vendor = membership.vendor
            if vendor.status in (Vendor.Status.REJECTED, Vendor.Status.SUSPENDED):
                return refuse(request, "closed.html", {"vendor": vendor})
            if vendor.status == Vendor.Status.PENDING and not pending:
                return redirect("vendor_site:dashboard")
            if owner and not membership.is_owner:
                return refuse(request, "owners_only.html", {"vendor": vendor})
            request.vendor = vendor  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
