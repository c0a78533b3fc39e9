"""Fan-out: a published intent becomes one delivery per matched vendor, written in bulk, then one
``intent.matched`` event per vendor with that vendor's own view of it.

Both steps work through the audience in chunks of ``INTENTCAST["FANOUT_CHUNK_SIZE"]`` vendors
(pseudonyms and deliveries; views, events and webhooks), so a worker's memory grows with the
chunk and not with the audience: 100,000 vendors cost ten chunks, not one 100,000-row build.

A small audience (up to ``INTENTCAST["FANOUT_ONE_STEP_MAX"]`` vendors, the usual request) takes
both steps in one task and one transaction: its events cost little beside the deliveries, and a
second outbox event, queue message and task would cost the pipeline more than the writes
themselves (at 100 requests per second, the difference between keeping up and falling behind).

A larger one is cast by all the workers at once: the task that matched it splits the audience,
in order of vendor id, into ``INTENTCAST["FANOUT_PARTS"]`` parts (fewer if a part would hold
fewer than ``INTENTCAST["FANOUT_PART_MIN"]`` vendors: a smaller one does not repay its task,
transaction and follow-up step), each an ``intent.part`` outbox event that carries its vendors
and their subscriptions, so the audience is matched once and every part delivers exactly its
share of it. Each part is its own task and transaction (its
pseudonyms and deliveries), followed by its own ``intent.delivered`` step for its vendors'
events. The writes of one transaction run on one database connection and one core; parts run
on as many as there are workers. A part is idempotent and at-least-once like any outbox event:
a worker killed in the middle of one leaves it for the sweep to dispatch again.

A part casts the revision it was split from, and only while the intent is open: one that
starts after she amended or closed the request delivers nothing. Reconsidering an amended
request, and telling the vendors of a closed one, wait until no part of its cast is pending
(``broker.core.outbox.EventMustWait``), so they see every delivery the cast made."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings

from broker.core.outbox import EventMustWait, record_event, unprocessed_events_exist
from broker.pipeline.matching import match_intent
from broker.pipeline.vendor_view import intent_json_by_vendor
from intents.models import Intent
from intents.selectors import intent_with_places, lock_intent
from intents.services import INTENT_PUBLISHED
from reputation.services import refresh_behaviour
from vendors.deal import unmatch
from vendors.events import record_vendor_events_json
from vendors.models import VendorEvent
from vendors.selectors import delivered_vendor_ids
from vendors.services import deliver, restore_deliveries, withdraw_deliveries

log = logging.getLogger(__name__)

INTENT_DELIVERED = "intent.delivered"
INTENT_PART = "intent.part"
# The events that cast an intent: while one of them is pending, deliveries may still be coming.
CASTING = (INTENT_PUBLISHED, INTENT_PART)
_T = TypeVar("_T")
# (vendor id, the subscription that matched it: its id, or a part's text of it, or None).
Pairs = Sequence[tuple[int, UUID | str | None]]


def deliver_intent(intent_id: UUID | str) -> int:
    """Match an intent and put it in the inboxes (its pseudonyms and deliveries), or, for an
    audience larger than ``FANOUT_ONE_STEP_MAX``, split it into up to ``FANOUT_PARTS`` parts of
    at least ``FANOUT_PART_MIN`` vendors.

    Idempotent: deliveries are unique per vendor, so a second run adds nothing. Runs inside the
    outbox event's transaction (see ``broker.core.outbox.process_event``). For an audience of
    up to ``FANOUT_ONE_STEP_MAX`` vendors the same transaction records their ``intent.matched``
    events and schedules the webhooks, with the handles it has just made or read. A larger one
    is recorded as ``intent.part`` events, each cast by ``cast_part`` after this transaction
    commits (or, when it makes a single part, cast here with a follow-up ``intent.delivered``).
    Returns the number of vendors matched.
    """
    intent = intent_with_places(intent_id=intent_id)
    if intent is None or not intent.is_open:
        return 0
    matches = match_intent(intent)
    if not matches:
        return 0
    pairs = sorted((match.vendor_id, match.subscription_id) for match in matches)
    parts = min(settings.INTENTCAST["FANOUT_PARTS"], len(pairs) // settings.INTENTCAST["FANOUT_PART_MIN"])
    if len(pairs) <= settings.INTENTCAST["FANOUT_ONE_STEP_MAX"] or parts <= 1:
        _cast(intent, pairs, whole=True)
    else:
        for part in split(pairs, parts):
            record_event(
                INTENT_PART,
                {
                    "intent_id": str(intent.pk),
                    "revision": intent.revision,
                    "vendors": [vendor_id for vendor_id, _ in part],
                    # Each id's 32 hex digits: a third of the time of str() for 100,000 of them.
                    "subscriptions": [s.hex if s is not None else None for _, s in part],
                },
            )
    log.info("intent %s matched %d vendors", intent.pk, len(matches))
    return len(matches)


def cast_part(payload: Mapping[str, Any]) -> int:
    """Write one part's pseudonyms and deliveries (``deliver_intent`` made it), and its vendors'
    ``intent.matched`` events in this transaction or, for a part larger than
    ``FANOUT_ONE_STEP_MAX``, in its own ``intent.delivered`` step. Nothing if the intent has
    closed or was amended since it was split (the amendment's reconsidering then delivers it to
    the vendors the new revision matches). Returns the number of vendors cast."""
    intent = intent_with_places(intent_id=payload["intent_id"])
    if intent is None or not intent.is_open or intent.revision != payload["revision"]:
        return 0
    # The subscriptions' ids stay text: their deliveries' COPY takes it (``broker.core.bulk
    # .insert_new``), and parsing 50,000 of them into UUIDs cost a part 0.15-0.3 s.
    pairs: Pairs = list(zip(payload["vendors"], payload["subscriptions"], strict=True))
    _cast(intent, pairs, whole=False)
    log.info("intent %s delivered to part %d-%d", intent.pk, pairs[0][0], pairs[-1][0])
    return len(pairs)


def _cast(intent: Intent, pairs: Pairs, *, whole: bool) -> None:
    """Deliver ``intent`` to ``pairs`` (sorted by vendor id), with their events in the same step
    if they are few; otherwise record the ``intent.delivered`` step, naming the vendors' range
    unless they are the ``whole`` audience."""
    if len(pairs) <= settings.INTENTCAST["FANOUT_ONE_STEP_MAX"]:
        handles = deliver(intent=intent, matches=pairs)
        _tell(intent, list(handles), VendorEvent.Kind.INTENT_MATCHED, subject=str(intent.pk), handles=handles)
        return
    for chunk in chunks(pairs):
        deliver(intent=intent, matches=chunk)
    payload: dict[str, Any] = {"intent_id": str(intent.pk)}
    if not whole:
        payload["vendors"] = [pairs[0][0], pairs[-1][0]]
    record_event(INTENT_DELIVERED, payload)


def split(items: Sequence[_T], parts: int) -> list[Sequence[_T]]:
    """``items`` in at most ``parts`` consecutive slices as even as can be (none empty)."""
    count = max(1, min(parts, len(items)))
    size, rest = divmod(len(items), count)
    slices = []
    start = 0
    for n in range(count):
        end = start + size + (1 if n < rest else 0)
        slices.append(items[start:end])
        start = end
    return slices


def notify_matched(intent_id: UUID | str, vendor_range: tuple[int, int] | None = None) -> int:
    """Record ``intent.matched`` for every vendor the intent was delivered to (those of one
    part: ids in ``vendor_range``, both ends included), with that vendor's own view of it, and
    schedule the webhooks. Idempotent (events are unique per vendor). Returns the number of
    vendors."""
    intent = intent_with_places(intent_id=intent_id)
    if intent is None:
        return 0
    vendor_ids = delivered_vendor_ids(intent_id=intent.pk, vendor_range=vendor_range)
    return _tell(intent, vendor_ids, VendorEvent.Kind.INTENT_MATCHED, subject=str(intent.pk))


def notify_closed(intent_id: UUID | str) -> int:
    """Tell every vendor that holds the intent that it is no longer open (``intent.withdrawn``,
    with its view of it and ``withdrawn_reason``: withdrawn, bought_elsewhere, no_longer_needed,
    expired or moderation). Waits while its cast is pending, so no vendor it reaches is left
    untold. Returns the number of vendors."""
    intent = intent_with_places(intent_id=intent_id)
    if intent is None:
        return 0
    _wait_for_cast(intent)
    return _tell(
        intent,
        delivered_vendor_ids(intent_id=intent.pk),
        VendorEvent.Kind.INTENT_WITHDRAWN,
        subject=str(intent.pk),
        extra={"withdrawn_reason": intent.close_reason or "withdrawn"},
    )


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


def _wait_for_cast(intent: Intent) -> None:
    """Raise ``EventMustWait`` while the intent's cast (its ``intent.published`` or a part) is
    pending or in progress: its deliveries are not all visible yet."""
    if unprocessed_events_exist(kinds=CASTING, intent_id=str(intent.pk)):
        raise EventMustWait(f"intent {intent.pk} is still being cast")


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
    outbox event's transaction, with the request locked; idempotent (events name the revision).
    Waits while its cast is pending: what was delivered is the starting point."""
    intent = lock_intent(intent_id=intent_id)
    if intent is None or not intent.is_open:
        return Reconsidered(0, 0, 0)
    _wait_for_cast(intent)
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
