"""The vendor's view of an intent: the one function that builds it (``intent_for_vendor``) and the
two ways it is gathered in bulk, for one vendor and many intents (the API's inbox) and for one
intent and many vendors (the events and webhooks of the fan-out and of a closed request).

A vendor sees the customer only by its own handle for her, her coarse reputation band, its own
latest bid, and what she chose to tell it after accepting its bid. Never her account data.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from django.db.models import QuerySet

from intents.models import Intent
from reputation.selectors import (
    CustomerReputation,
    customer_band,
    customer_reputation,
    customer_reputations,
    customer_score_facts,
)
from vendors.models import Bid, Delivery, Vendor
from vendors.payloads import agreement_for_vendor, bid_for_vendor, money
from vendors.relationships import (
    handles_for_customer,
    handles_for_vendor,
    identities_for_customer,
    identities_for_vendor,
)
from vendors.selectors import (
    inbox_deliveries,
    inbox_view_facts,
    latest_bids,
    latest_bids_on,
    market,
    vendor_inbox,
)


def intent_for_vendor(
    intent: Intent,
    *,
    handle: str,
    customer_reputation: CustomerReputation,
    bid: Bid | None = None,
    identity: dict[str, str] | None = None,
    market: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``intent`` needs ``category``, ``region`` and ``agreement`` loaded. ``identity`` is what the customer
    chose to tell this vendor after accepting its bid, and only ever this vendor's. ``market``
    (how many offers, the best price) is shown for an open-format request only, and never who
    made them."""
    return {
        "id": str(intent.pk),
        "customer": {"handle": handle, "reputation": customer_reputation, "identity": identity},
        "title": intent.title,
        "details": intent.details,
        "language": intent.language,
        "category": intent.category.slug,
        "attributes": intent.attributes,
        "region": intent.region.code,
        "budget": money(intent.budget_max, intent.currency),
        "terms": intent.terms,
        "agreement": agreement_for_vendor(intent.agreement),
        "status": intent.status,
        "format": intent.format,
        "sealed_until": intent.sealed_until.isoformat() if intent.sealed_until else None,
        "market": _market_view(intent, market),
        "revision": intent.revision,
        "created_at": intent.created_at.isoformat(),
        "expires_at": intent.expires_at.isoformat(),
        "bid": bid_for_vendor(bid) if bid is not None else None,
    }


def _market_view(intent: Intent, market: dict[str, Any] | None) -> dict[str, Any] | None:
    if intent.format != Intent.Format.OPEN:
        return None  # sealed: nobody sees anything of the other offers
    market = market or {"offers": 0, "best": None}
    best = market["best"]
    return {"offers": market["offers"], "best_price": money(*best) if best is not None else None}


def intents_for_vendor(*, vendor_id: int, intents: Iterable[Intent]) -> list[dict[str, Any]]:
    """One vendor's view of each of ``intents`` (the inbox). Five queries, whatever the number
    of intents."""
    intents = list(intents)
    customer_ids = {intent.customer_id for intent in intents}
    handles = handles_for_vendor(vendor_id=vendor_id, customer_ids=customer_ids)
    bids = latest_bids(vendor_ids=[vendor_id], intent_ids=[intent.pk for intent in intents])
    reputations = customer_reputations(customer_ids)
    identities = identities_for_vendor(vendor_id=vendor_id, customer_ids=customer_ids)
    markets = market(intent_ids=[intent.pk for intent in intents if intent.format == Intent.Format.OPEN])
    return [
        intent_for_vendor(
            intent,
            handle=handles[intent.customer_id],
            customer_reputation=reputations[intent.customer_id],
            bid=bids.get((vendor_id, intent.pk)),
            identity=identities.get(intent.customer_id),
            market=markets.get(intent.pk),
        )
        for intent in intents
    ]


def inbox_annotations(*, vendor_id: int) -> dict[str, Any]:
    """What ``inbox_views`` reads beside each delivery's intent, as annotations of the inbox's
    query (vendors.selectors.inbox_view_facts, and her score for her band)."""
    return {**inbox_view_facts(vendor_id=vendor_id), **customer_score_facts("intent__customer_id")}


@lru_cache(maxsize=4096)
def annotated_inbox(vendor: Vendor) -> QuerySet[Delivery]:
    """``vendor_inbox`` annotated with ``inbox_annotations``, built once per vendor and process:
    building the annotations' subqueries costs more than reading a page of the inbox. A
    template, never evaluated itself: callers chain on it (``.all()``, ``.filter()``), which
    leaves it as it is. Only the vendor's id is in it, so a cached one never goes stale."""
    return vendor_inbox(vendor=vendor).annotate(**inbox_annotations(vendor_id=vendor.pk))


@lru_cache(maxsize=4096)
def annotated_deliveries(vendor: Vendor) -> QuerySet[Delivery]:
    """``vendors.selectors.inbox_deliveries`` annotated with ``inbox_annotations`` (for one
    intent's view, ``inbox_delivery``), built once per vendor and process as ``annotated_inbox``."""
    return inbox_deliveries(vendor=vendor, annotations=inbox_annotations(vendor_id=vendor.pk))


def inbox_views(*, vendor_id: int, deliveries: Sequence[Delivery]) -> list[dict[str, Any]]:
    """The vendor's view of the intent of each of ``deliveries``, annotated with
    ``inbox_annotations``: the same as ``intents_for_vendor``'s in one query for the latest bids
    (and one for their photos, if any), another for what customers told it (rarely any) and
    none for the rest."""
    intents = [delivery.intent for delivery in deliveries]
    bids = latest_bids(vendor_ids=[vendor_id], intent_ids=[intent.pk for intent in intents])
    revealed = {d.intent.customer_id for d in deliveries if d.view_revealed}  # type: ignore[attr-defined]
    identities = identities_for_vendor(vendor_id=vendor_id, customer_ids=revealed) if revealed else {}
    views = []
    for delivery, intent in zip(deliveries, intents, strict=True):
        best = delivery.view_best_amount  # type: ignore[attr-defined]
        views.append(
            intent_for_vendor(
                intent,
                handle=delivery.view_handle,  # type: ignore[attr-defined]
                customer_reputation=customer_band(delivery.view_ratings, delivery.view_score),  # type: ignore[attr-defined]
                bid=bids.get((vendor_id, intent.pk)),
                identity=identities.get(intent.customer_id),
                market={
                    "offers": delivery.view_offers or 0,  # type: ignore[attr-defined]
                    "best": (best, delivery.view_best_currency) if best is not None else None,  # type: ignore[attr-defined]
                },
            )
        )
    return views


def intent_json_by_vendor(
    *,
    intent: Intent,
    vendor_ids: Sequence[int],
    extra: dict[str, Any] | None = None,
    handles: Mapping[int, str] | None = None,
) -> dict[int, str]:
    """Each vendor's view of one intent, as JSON text, for the vendors that hold a handle for
    the customer (every vendor it was delivered to). ``handles``, the customer's handle for
    each of ``vendor_ids`` when the caller has just made them, spares reading them.

    The views differ only in the handle, except for the few vendors with a bid on it or to whom
    she revealed who she is. So the common view is encoded once and each handle spliced in:
    encoding 10,000 copies would cost more than writing them. ``extra`` is added to every view
    (the reason it was withdrawn, say).
    """
    if handles is None:
        handles = handles_for_customer(customer_id=intent.customer_id, vendor_ids=vendor_ids)
    reputation = customer_reputation(intent.customer_id)
    # Few vendors have bid on one intent or been told who she is: read those few, not 10,000 ids.
    bids = {vendor_id: bid for vendor_id, bid in latest_bids_on(intent_id=intent.pk).items() if vendor_id in handles}
    identities = {
        vendor_id: identity
        for vendor_id, identity in identities_for_customer(customer_id=intent.customer_id).items()
        if vendor_id in handles
    }
    markets = market(intent_ids=[intent.pk]) if intent.format == Intent.Format.OPEN else {}
    extra = extra or {}
    marker = json.dumps(f"handle-{uuid.uuid4().hex}")
    common = intent_for_vendor(
        intent, handle=json.loads(marker), customer_reputation=reputation, market=markets.get(intent.pk)
    )
    head, tail = json.dumps({**common, **extra}).split(marker)  # a fresh marker occurs once
    views = {vendor_id: f"{head}{json.dumps(handle)}{tail}" for vendor_id, handle in handles.items()}
    for vendor_id in set(bids) | set(identities):
        view = intent_for_vendor(
            intent,
            handle=handles[vendor_id],
            customer_reputation=reputation,
            bid=bids.get(vendor_id),
            identity=identities.get(vendor_id),
            market=markets.get(intent.pk),
        )
        views[vendor_id] = json.dumps({**view, **extra})
    return views
