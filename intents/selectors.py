"""Reads on the customer side."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from broker.errors import NotFound
from intents.models import Intent, Pseudonym
from vendors.models import Bid


def customer_intents(*, customer) -> QuerySet[Intent]:
    return (
        Intent.objects.filter(customer=customer)
        .select_related("category", "region")
        .annotate(active_bids=Count("bids", filter=Q(bids__status=Bid.Status.ACTIVE)))
        .order_by("-created_at")
    )


def customer_intent(*, customer, intent_id) -> Intent:
    """One of the customer's intents; ``NotFound`` for anybody else's."""
    intent = Intent.objects.select_related("category", "region").filter(pk=intent_id, customer=customer).first()
    if intent is None:
        raise NotFound("No such request.")
    return intent


def handles_for_vendor(*, vendor_id: int, customer_ids) -> dict[int, str]:
    return dict(
        Pseudonym.objects.filter(vendor_id=vendor_id, customer_id__in=set(customer_ids)).values_list(
            "customer_id", "handle"
        )
    )


def handles_for_customer(*, customer_id: int, vendor_ids) -> dict[int, str]:
    return dict(
        Pseudonym.objects.filter(customer_id=customer_id, vendor_id__in=set(vendor_ids)).values_list(
            "vendor_id", "handle"
        )
    )
