"""Fan-out: a published intent becomes one delivery per matched vendor, written in bulk."""

from __future__ import annotations

import json
import logging
import uuid

from django.utils import timezone

from broker.events import insert_ignoring_conflicts, record_vendor_events_json
from broker.matching import match_intent
from broker.models import Delivery, VendorEvent
from broker.payloads import intent_for_vendor
from intents.models import Intent
from intents.services import ensure_pseudonyms
from reputation.selectors import customer_reputation

log = logging.getLogger(__name__)


def deliver_intent(intent_id) -> int:
    """Match an intent and write its deliveries and ``intent.matched`` events.

    Idempotent: deliveries and events are unique per vendor, so a second run adds nothing.
    Runs inside the outbox event's transaction (see ``broker.outbox.process_event``).
    Returns the number of vendors matched.
    """
    intent = Intent.objects.select_related("category", "region").filter(pk=intent_id).first()
    if intent is None or not intent.is_open:
        return 0
    matches = match_intent(intent)
    if not matches:
        return 0
    vendor_ids = [match.vendor_id for match in matches]
    handles = ensure_pseudonyms(customer_id=intent.customer_id, vendor_ids=vendor_ids)
    now = timezone.now()
    insert_ignoring_conflicts(
        Delivery,
        ("intent", "vendor", "subscription", "created_at"),
        [(intent.pk, match.vendor_id, match.subscription_id, now) for match in matches],
    )
    reputation = customer_reputation(intent.customer_id)
    record_vendor_events_json(
        kind=VendorEvent.Kind.INTENT_MATCHED,
        subject=str(intent.pk),
        data_json_by_vendor=intent_json_by_vendor(intent, handles, vendor_ids, reputation),
    )
    log.info("intent %s delivered to %d vendors", intent.pk, len(matches))
    return len(matches)


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
