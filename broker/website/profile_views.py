"""A vendor's public profile: what any customer may see of a business before she deals with it
(linked from each offer). Only the business's own words and figures counted over all its deals:
nothing one customer did, no rating's comment, no handle, no request."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from broker.core.errors import NotFound
from reputation.selectors import vendor_cards
from vendors import selectors as vendor_selectors


def vendor_profile(request: HttpRequest, vendor_id: int) -> HttpResponse:
    try:
        vendor = vendor_selectors.public_vendor(vendor_id=vendor_id)
    except NotFound:
        raise Http404("No such vendor.") from None
    return render(
        request,
        "website/vendor_profile.html",
        {
            "vendor": vendor,
            "card": vendor_cards([vendor.pk])[vendor.pk],
            "categories": sorted(c.name for c in vendor.categories.all()),
            "regions": sorted(r.name for r in vendor.regions.all()),
        },
    )
