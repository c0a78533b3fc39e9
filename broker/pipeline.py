"""What each outbox event sets in motion."""

from __future__ import annotations

from broker.events import record_vendor_events
from broker.fanout import INTENT_DELIVERED, deliver_intent, notify_matched
from broker.models import Delivery, VendorEvent
from broker.payloads import intent_for_vendor
from intents.models import Intent, Pseudonym
from intents.services import INTENT_CLOSED, INTENT_PUBLISHED
from reputation.selectors import customer_reputation


def on_intent_published(payload: dict) -> None:
    deliver_intent(payload["intent_id"])


def on_intent_delivered(payload: dict) -> None:
    notify_matched(payload["intent_id"])


def on_intent_closed(payload: dict) -> None:
    """Tell every vendor that received the intent that it is no longer open."""
    intent = Intent.objects.select_related("category", "region").filter(pk=payload["intent_id"]).first()
    if intent is None:
        return
    vendor_ids = list(Delivery.objects.filter(intent=intent).values_list("vendor_id", flat=True))
    handles = dict(
        Pseudonym.objects.filter(customer_id=intent.customer_id, vendor_id__in=vendor_ids).values_list(
            "vendor_id", "handle"
        )
    )
    reputation = customer_reputation(intent.customer_id)
    record_vendor_events(
        kind=VendorEvent.Kind.INTENT_WITHDRAWN,
        subject=str(intent.pk),
        data_by_vendor={
            vendor_id: intent_for_vendor(intent, handle=handles[vendor_id], customer_reputation=reputation)
            for vendor_id in vendor_ids
        },
    )


HANDLERS = {
    INTENT_PUBLISHED: on_intent_published,
    INTENT_DELIVERED: on_intent_delivered,
    INTENT_CLOSED: on_intent_closed,
}
