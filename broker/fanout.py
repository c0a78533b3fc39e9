"""Fan-out: a published intent becomes one delivery per matched vendor, written in bulk."""

from __future__ import annotations

import json
import logging
import uuid

from django.utils import timezone

from broker.events import insert_ignoring_conflicts, record_vendor_events_json
from broker.matching import match_intent
from broker.models import Delivery, VendorEvent
from broker.outbox import record_event
from broker.payloads import intent_for_vendor
from intents.models import IdentityReveal, Intent, Pseudonym
from intents.services import ensure_pseudonyms
from reputation.selectors import customer_reputation

log = logging.getLogger(__name__)

INTENT_DELIVERED = "intent.delivered"


def deliver_intent(intent_id) -> int:
    """Match an intent and write its pseudonyms and deliveries: what puts it in the inboxes.

    Idempotent: deliveries are unique per vendor, so a second run adds nothing. Runs inside the
    outbox event's transaction (see ``broker.outbox.process_event``), which also records the
    follow-up ``intent.delivered`` event; the vendors' ``intent.matched`` events and webhooks
    are written by that step (``notify_matched``), after this transaction has made the intent
    visible in every inbox. Returns the number of vendors matched.
    """
    intent = Intent.objects.select_related("category", "region").filter(pk=intent_id).first()
    if intent is None or not intent.is_open:
        return 0
    matches = match_intent(intent)
    if not matches:
        return 0
    ensure_pseudonyms(customer_id=intent.customer_id, vendor_ids=[match.vendor_id for match in matches])
    now = timezone.now()
    insert_ignoring_conflicts(
        Delivery,
        ("intent", "vendor", "subscription", "created_at"),
        [(intent.pk, match.vendor_id, match.subscription_id, now) for match in matches],
    )
    record_event(INTENT_DELIVERED, {"intent_id": str(intent.pk)})
    log.info("intent %s delivered to %d vendors", intent.pk, len(matches))
    return len(matches)


def notify_matched(intent_id) -> int:
    """Record ``intent.matched`` for every vendor the intent was delivered to, with that
    vendor's own view of it, and schedule the webhooks. Idempotent (events are unique per
    vendor). Returns the number of vendors."""
    intent = Intent.objects.select_related("category", "region").filter(pk=intent_id).first()
    if intent is None:
        return 0
    delivered = Delivery.objects.filter(intent=intent).values("vendor_id")
    handles = dict(
        Pseudonym.objects.filter(customer_id=intent.customer_id, vendor_id__in=delivered).values_list(
            "vendor_id", "handle"
        )
    )
    vendor_ids = list(handles)
    reputation = customer_reputation(intent.customer_id)
    data = intent_json_by_vendor(intent, handles, vendor_ids, reputation)
    # The few vendors she has told who she is see that too, as in the API.
    for reveal in IdentityReveal.objects.filter(customer_id=intent.customer_id, vendor_id__in=delivered):
        view = intent_for_vendor(
            intent, handle=handles[reveal.vendor_id], customer_reputation=reputation, identity=reveal.shared()
        )
        data[reveal.vendor_id] = json.dumps(view)
    record_vendor_events_json(kind=VendorEvent.Kind.INTENT_MATCHED, subject=str(intent.pk), data_json_by_vendor=data)
    return len(vendor_ids)


def intent_json_by_vendor(intent: Intent, handles: dict[int, str], vendor_ids: list[int], reputation: dict) -> dict:
    """Each vendor's view of the intent (``intent_for_vendor``) as JSON text. The views differ
    only in the customer's handle, so the intent is encoded once and each handle spliced in:
    encoding 10,000 copies would cost more than writing them."""
    marker = json.dumps(f"handle-{uuid.uuid4().hex}")
    text = json.dumps(intent_for_vendor(intent, handle=json.loads(marker), customer_reputation=reputation))
    if text.count(marker) != 1:  # cannot happen with a fresh marker, but never splice blindly
        return {
            vendor_id: json.dumps(intent_for_vendor(intent, handle=handles[vendor_id], customer_reputation=reputation))
            for vendor_id in vendor_ids
        }
    head, tail = text.split(marker)
    return {vendor_id: f"{head}{json.dumps(handles[vendor_id])}{tail}" for vendor_id in vendor_ids}
