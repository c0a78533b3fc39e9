"""Reads on the vendor side: the inbox, one delivered intent, bids."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q, QuerySet

from broker.errors import NotFound
from broker.models import Delivery
from broker.payloads import intent_for_vendor
from intents.models import Category, IdentityReveal, Intent
from intents.selectors import handles_for_vendor
from reputation.selectors import customer_reputations
from vendors.models import Bid, Vendor


def vendor_inbox(
    *, vendor: Vendor, status: str | None = None, category: Category | None = None, since: datetime | None = None
) -> QuerySet[Delivery]:
    """The vendor's deliveries, newest first, with their intents."""
    deliveries = Delivery.objects.filter(vendor=vendor).select_related("intent__category", "intent__region")
    if status:
        deliveries = deliveries.filter(intent__status=status)
    if category is not None:
        deliveries = deliveries.filter(
            Q(intent__category=category) | Q(intent__category__path__startswith=f"{category.path}/")
        )
    if since is not None:
        deliveries = deliveries.filter(created_at__gte=since)
    return deliveries.order_by("-id")


def intents_for_vendor(*, vendor: Vendor, intents: Iterable[Intent]) -> list[dict]:
    """The vendor's view of each intent: its own handle for the customer, her coarse
    reputation, its own latest bid, and her identity if she told it. Four queries, whatever the number of intents."""
    intents = list(intents)
    handles = handles_for_vendor(vendor_id=vendor.pk, customer_ids=[i.customer_id for i in intents])
    bids: dict = {}
    for bid in Bid.objects.filter(vendor=vendor, intent__in=intents).order_by("created_at"):
        bids[bid.intent_id] = bid  # the latest bid wins
    reputations = customer_reputations({i.customer_id for i in intents})
    identities = {
        reveal.customer_id: reveal.shared()
        for reveal in IdentityReveal.objects.filter(vendor=vendor, customer_id__in={i.customer_id for i in intents})
    }
    return [
        intent_for_vendor(
            intent,
            handle=handles[intent.customer_id],
            customer_reputation=reputations[intent.customer_id],
            bid=bids.get(intent.pk),
            identity=identities.get(intent.customer_id),
        )
        for intent in intents
    ]


def delivered_intent(*, vendor: Vendor, intent_id) -> Intent:
    """An intent delivered to ``vendor``; ``NotFound`` for any other, so an intent's existence
    leaks to nobody it was not cast to."""
    delivery = (
        Delivery.objects.filter(vendor=vendor, intent_id=intent_id)
        .select_related("intent__category", "intent__region")
        .first()
    )
    if delivery is None:
        raise NotFound("No such request in your inbox.")
    return delivery.intent


def vendor_bids(*, vendor: Vendor) -> QuerySet[Bid]:
    return Bid.objects.filter(vendor=vendor)


def vendor_bid(*, vendor: Vendor, bid_id) -> Bid:
    bid = Bid.objects.filter(vendor=vendor, pk=bid_id).first()
    if bid is None:
        raise NotFound("No such bid.")
    return bid
