"""Fan-out: a published intent becomes one delivery per matched vendor, written in bulk, then one
``intent.matched`` event per vendor with that vendor's own view of it."""

from __future__ import annotations

import logging
from uuid import UUID

from broker.core.outbox import record_event
from broker.pipeline.matching import match_intent
from broker.pipeline.vendor_view import intent_json_by_vendor
from intents.selectors import intent_with_places
from vendors.events import record_vendor_events_json
from vendors.models import VendorEvent
from vendors.selectors import delivered_vendor_ids
from vendors.services import deliver

log = logging.getLogger(__name__)

INTENT_DELIVERED = "intent.delivered"


def deliver_intent(intent_id: UUID | str) -> int:
    """Match an intent and write its pseudonyms and deliveries: what puts it in the inboxes.

    Idempotent: deliveries are unique per vendor, so a second run adds nothing. Runs inside the
    outbox event's transaction (see ``broker.core.outbox.process_event``), which also records the
    follow-up ``intent.delivered`` event; the vendors' ``intent.matched`` events and webhooks
    are written by that step (``notify_matched``), after this transaction has made the intent
    visible in every inbox. Returns the number of vendors matched.
    """
    intent = intent_with_places(intent_id=intent_id)
    if intent is None or not intent.is_open:
        return 0
    matches = match_intent(intent)
    if not matches:
        return 0
    deliver(intent=intent, matches=[(match.vendor_id, match.subscription_id) for match in matches])
    record_event(INTENT_DELIVERED, {"intent_id": str(intent.pk)})
    log.info("intent %s delivered to %d vendors", intent.pk, len(matches))
    return len(matches)


def notify_matched(intent_id: UUID | str) -> int:
    """Record ``intent.matched`` for every vendor the intent was delivered to, with that
    vendor's own view of it, and schedule the webhooks. Idempotent (events are unique per
    vendor). Returns the number of vendors."""
    return _tell_vendors(intent_id, VendorEvent.Kind.INTENT_MATCHED)


def notify_closed(intent_id: UUID | str) -> int:
    """Tell every vendor that received the intent that it is no longer open
    (``intent.withdrawn``, with its view of it). Returns the number of vendors."""
    return _tell_vendors(intent_id, VendorEvent.Kind.INTENT_WITHDRAWN)


def _tell_vendors(intent_id: UUID | str, kind: str) -> int:
    intent = intent_with_places(intent_id=intent_id)
    if intent is None:
        return 0
    views = intent_json_by_vendor(intent=intent, vendor_ids=delivered_vendor_ids(intent_id=intent.pk))
    record_vendor_events_json(kind=kind, subject=str(intent.pk), data_json_by_vendor=views)
    return len(views)
