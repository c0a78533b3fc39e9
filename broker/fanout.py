"""Fan-out: a published intent becomes one delivery per matched vendor, written in bulk."""

from __future__ import annotations

import logging

from django.conf import settings

from broker.events import record_vendor_events
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
    Delivery.objects.bulk_create(
        [Delivery(intent=intent, vendor_id=m.vendor_id, subscription_id=m.subscription_id) for m in matches],
        batch_size=settings.INTENTCAST["DELIVERY_BATCH_SIZE"],
        ignore_conflicts=True,
    )
    reputation = customer_reputation(intent.customer_id)
    record_vendor_events(
        kind=VendorEvent.Kind.INTENT_MATCHED,
        subject=str(intent.pk),
        data_by_vendor={
            vendor_id: intent_for_vendor(intent, handle=handles[vendor_id], customer_reputation=reputation)
            for vendor_id in vendor_ids
        },
    )
    log.info("intent %s delivered to %d vendors", intent.pk, len(matches))
    return len(matches)
