"""Fan-out: a published intent becomes one delivery per matched vendor, written in bulk, then one
``intent.matched`` event per vendor with that vendor's own view of it.

Both steps work through the audience in chunks of ``INTENTCAST["FANOUT_CHUNK_SIZE"]`` vendors
(pseudonyms and deliveries; views, events and webhooks), so a worker's memory grows with the
chunk and not with the audience: 100,000 vendors cost ten chunks, not one 100,000-row build.

A small audience (up to ``INTENTCAST["FANOUT_ONE_STEP_MAX"]`` vendors, the usual request) takes
both steps in one task and one transaction: its events cost little beside the deliveries, and a
second outbox event, queue message and task would cost the pipeline more than the writes
themselves (at 100 requests per second, the difference between keeping up and falling behind)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings

from broker.core.outbox import record_event
from broker.pipeline.matching import match_intent
from broker.pipeline.vendor_view import intent_json_by_vendor
from intents.models import Intent
from intents.selectors import intent_with_places, lock_intent
from reputation.services import refresh_behaviour
from vendors.deal import unmatch
from vendors.events import record_vendor_events_json
from vendors.models import VendorEvent
from vendors.selectors import delivered_vendor_ids
from vendors.services import deliver, restore_deliveries, withdraw_deliveries

log = logging.getLogger(__name__)

INTENT_DELIVERED = "intent.delivered"
_T = TypeVar("_T")


def deliver_intent(intent_id: UUID | str) -> int:
    """Match an intent and write its pseudonyms and deliveries: what puts it in the inboxes.

    Idempotent: deliveries are unique per vendor, so a second run adds nothing. Runs inside the
    outbox event's transaction (see ``broker.core.outbox.process_event``). For an audience of up
    to ``FANOUT_ONE_STEP_MAX`` vendors the same transaction records their ``intent.matched``
    events and schedules the webhooks, with the handles it has just made or read. A larger one
    records the follow-up ``intent.delivered`` event instead: the events and webhooks are
    written by that step (``notify_matched``), after this transaction has made the intent
    visible in every inbox. Returns the number of vendors matched.
    """
    intent = intent_with_places(intent_id=intent_id)
    if intent is None or not intent.is_open:
        return 0
    matches = match_intent(intent)
    if not matches:
        return 0
    pairs = [(match.vendor_id, match.subscription_id) for match in matches]
    if len(pairs) <= settings.INTENTCAST["FANOUT_ONE_STEP_MAX"]:
        handles = deliver(intent=intent, matches=pairs)
        _tell(intent, list(handles), VendorEvent.Kind.INTENT_MATCHED, subject=str(intent.pk), handles=handles)
    else:
        for chunk in chunks(pairs):
            deliver(intent=intent, matches=chunk)
        record_event(INTENT_DELIVERED, {"intent_id": str(intent.pk)})
    log.info("intent %s delivered to %d vendors", intent.pk, len(matches))
    return len(matches)


def notify_matched(intent_id: UUID | str) -> int:
    """Record ``intent.matched`` for every vendor the intent was delivered to, with that
    vendor's own view of it, and schedule the webhooks. Idempotent (events are unique per
    vendor). Returns the number of vendors."""
    return _tell_vendors(intent_id, VendorEvent.Kind.INTENT_MATCHED)


def notify_closed(intent_id: UUID | str) -> int:
    """Tell every vendor that holds the intent that it is no longer open (``intent.withdrawn``,
    with its view of it and ``withdrawn_reason``: withdrawn, bought_elsewhere, no_longer_needed,
    expired or moderation). Returns the number of vendors."""
    intent = intent_with_places(intent_id=intent_id)
    if intent is None:
        return 0
    return _tell(
        intent,
        delivered_vendor_ids(intent_id=intent.pk),
        VendorEvent.Kind.INTENT_WITHDRAWN,
        subject=str(intent.pk),
        extra={"withdrawn_reason": intent.close_reason or "withdrawn"},
    )


def _tell_vendors(intent_id: UUID | str, kind: str) -> int:
    intent = intent_with_places(intent_id=intent_id)
    if intent is None:
        return 0
    return _tell(intent, delivered_vendor_ids(intent_id=intent.pk), kind, subject=str(intent.pk))


def _tell(
    intent: Intent,
    vendor_ids: Sequence[int],
    kind: str,
    *,
    subject: str,
    extra: dict[str, Any] | None = None,
    handles: Mapping[int, str] | None = None,
) -> int:
    """Record ``kind`` for each of ``vendor_ids`` with its view of ``intent``, chunk by chunk.
    ``handles`` (the customer's handle for each of them) spares reading them again."""
    told = 0
    for chunk in chunks(vendor_ids):
        known = {vendor_id: handles[vendor_id] for vendor_id in chunk} if handles is not None else None
        views = intent_json_by_vendor(intent=intent, vendor_ids=chunk, extra=extra, handles=known)
        record_vendor_events_json(kind=kind, subject=subject, data_json_by_vendor=views)
        told += len(views)
    return told


def chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``items`` in slices of ``INTENTCAST["FANOUT_CHUNK_SIZE"]``."""
    size = settings.INTENTCAST["FANOUT_CHUNK_SIZE"]
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Reconsidered:
    updated: int
    added: int
    withdrawn: int


def reconsider_intent(intent_id: UUID | str) -> Reconsidered:
    """After she amended a request, match it again: vendors that still match get
    ``intent.updated``; vendors that now match get it in their inbox (``intent.matched``);
    vendors that no longer match lose it from their inbox (``intent.withdrawn`` with
    ``withdrawn_reason`` ``no_longer_matches``) and their active offers are declined. Runs in the
    outbox event's transaction, with the request locked; idempotent (events name the revision)."""
    intent = lock_intent(intent_id=intent_id)
    if intent is None or not intent.is_open:
        return Reconsidered(0, 0, 0)
    intent = intent_with_places(intent_id=intent.pk) or intent
    matches = {match.vendor_id: match for match in match_intent(intent)}
    current = set(delivered_vendor_ids(intent_id=intent.pk))
    ever = set(delivered_vendor_ids(intent_id=intent.pk, current=False))
    revision = f"{intent.pk}@{intent.revision}"
    staying = sorted(current & set(matches))
    leaving = sorted(current - set(matches))
    arriving = sorted(set(matches) - current)
    if arriving:
        restore_deliveries(intent=intent, vendor_ids=[v for v in arriving if v in ever])
        deliver(intent=intent, matches=[(v, matches[v].subscription_id) for v in arriving if v not in ever])
    if leaving:
        withdraw_deliveries(intent=intent, vendor_ids=leaving)
        unmatch(intent=intent, vendor_ids=leaving)
        _tell(
            intent,
            leaving,
            VendorEvent.Kind.INTENT_WITHDRAWN,
            subject=revision,
            extra={"withdrawn_reason": "no_longer_matches"},
        )
    # Deliveries taken out of an inbox, or put back, leave or join its vendor's behaviour figures.
    refresh_behaviour(vendor_ids=[*leaving, *(v for v in arriving if v in ever)])
    _tell(intent, staying, VendorEvent.Kind.INTENT_UPDATED, subject=revision)
    _tell(intent, arriving, VendorEvent.Kind.INTENT_MATCHED, subject=revision)
    log.info(
        "intent %s amended: %d updated, %d added, %d withdrawn", intent.pk, len(staying), len(arriving), len(leaving)
    )
    return Reconsidered(updated=len(staying), added=len(arriving), withdrawn=len(leaving))
