"""What a vendor sees: one builder per object, used by the API and by webhooks alike, so the
two can never disagree. Nothing here may carry the customer's account data."""

from __future__ import annotations

from typing import Any

from intents.models import Intent
from vendors.models import Bid


def money(amount, currency: str) -> dict | None:
    if amount is None:
        return None
    return {"amount": str(amount), "currency": currency}


def bid_for_vendor(bid: Bid) -> dict[str, Any]:
    return {
        "id": str(bid.pk),
        "intent": str(bid.intent_id),
        "price": money(bid.amount, bid.currency),
        "message": bid.message,
        "offered_attributes": bid.offered_attributes,
        "valid_until": bid.valid_until.isoformat() if bid.valid_until else None,
        "terms_accepted": bid.terms_accepted,
        "status": bid.status,
        "created_at": bid.created_at.isoformat(),
        "updated_at": bid.updated_at.isoformat(),
    }


def intent_for_vendor(
    intent: Intent, *, handle: str, customer_reputation: dict, bid: Bid | None = None, identity: dict | None = None
) -> dict[str, Any]:
    """``intent`` needs ``category`` and ``region`` loaded. ``identity`` is what the customer
    chose to tell this vendor after accepting its bid, and only ever this vendor's."""
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
        "status": intent.status,
        "created_at": intent.created_at.isoformat(),
        "expires_at": intent.expires_at.isoformat(),
        "bid": bid_for_vendor(bid) if bid is not None else None,
    }
