"""The transactional outbox: facts written with the change, dispatched after commit.

A service records an event (``record_event``) in its own transaction; after commit the event is
handed to the ``process_outbox_event`` task, which runs the handler for its kind. The handlers
belong to the floor that reacts to the facts (the pipeline, ``broker.pipeline.handlers``), which
the core does not import: ``settings.INTENTCAST["OUTBOX_HANDLERS"]`` names them, as Django names
middleware, so the outbox stays at the bottom while the pipeline above it decides what a fact
sets in motion.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Mapping
from functools import cache
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError

from broker.models import OutboxEvent

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]


class EventMustWait(Exception):
    """A handler raises it when its event must wait for others about the same intent that are
    still in the outbox. The transaction is rolled back and the event stays unprocessed: the
    sweep dispatches it again after ``OUTBOX_REDISPATCH_AFTER``, by which time they are done."""


def record_event(kind: str, payload: dict[str, Any], *, dispatch: bool = True) -> OutboxEvent:
    """Write an outbox event in the caller's transaction and dispatch it once that commits.

    ``dispatch=False`` leaves it to the sweep, which hands it to a worker
    ``OUTBOX_REDISPATCH_AFTER`` after it was written: for a kind of ``OUTBOX_TAKEN_TOGETHER``,
    whose handler takes every event of its kind then waiting (``claim_events``), so that facts
    recorded often (a busy vendor's offers) cost one reaction every few seconds rather than one
    each, and the request that records one sends no message."""
    event = OutboxEvent.objects.create(kind=kind, payload=payload)
    if dispatch:
        transaction.on_commit(lambda: dispatch_event(event.pk))
    return event


def claim_events(kind: str, *, limit: int) -> list[dict[str, Any]]:
    """The payloads of up to ``limit`` unprocessed events of ``kind`` that no worker is processing,
    oldest first, marked processed in the caller's transaction: a handler of a kind of
    ``OUTBOX_TAKEN_TOGETHER`` takes them with its own event, and its work and their marks commit or
    roll back together (a worker killed half-way leaves them for the sweep)."""
    with transaction.atomic(using=router.db_for_write(OutboxEvent)):  # within the caller's
        taken = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(kind=kind, processed_at__isnull=True)
            .order_by("id")
            .values_list("pk", "payload")[:limit]
        )
        if taken:
            OutboxEvent.objects.filter(pk__in=[pk for pk, _ in taken]).update(
                processed_at=timezone.now(), attempts=F("attempts") + 1
            )
        return [payload for _, payload in taken]


def dispatch_event(event_id: int) -> bool:
    """Hand an event to the workers. If the queue is unreachable the event stays in the outbox
    and ``redispatch_unprocessed`` sends it again later; nothing is lost.

    This first dispatch, right after commit, is not written down: an UPDATE and its commit for
    every event cost the database more than the enqueue, and the sweep does not need it (it
    calls an event lost ``OUTBOX_REDISPATCH_AFTER`` after it was written, which is when this
    dispatch happened, give or take the commit). The sweep records its own dispatches."""
    try:
        process_outbox_event.delay(event_id)
    except (OperationalError, OSError):  # the queue is unreachable
        log.warning("outbox event %s not dispatched; it will be retried", event_id, exc_info=True)
        return False
    return True


def redispatch_unprocessed() -> int:
    """Dispatch again every event that looks lost: unprocessed ``OUTBOX_REDISPATCH_AFTER`` after it
    was written and after the sweep last sent it again, and not being processed right now.

    A worker processing an event holds its row lock (``process_event``), so ``SKIP LOCKED`` leaves
    out the events in progress, however long their handler takes; the lock of a worker that was
    killed goes with its connection. What remains was never sent, was taken by a worker that
    died, or is still waiting in a long queue: sent again, it is processed once all the same. Of
    the events of a kind of ``OUTBOX_TAKEN_TOGETHER`` (recorded with ``dispatch=False``), only the
    oldest is sent: its handler takes the others.
    Beat runs this every ``PIPELINE_SWEEP_SECONDS``, so recovery takes seconds."""
    cutoff = timezone.now() - settings.INTENTCAST["OUTBOX_REDISPATCH_AFTER"]
    together = settings.INTENTCAST["OUTBOX_TAKEN_TOGETHER"]
    with transaction.atomic():
        rows = (
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(processed_at__isnull=True, created_at__lt=cutoff)
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=cutoff))
            .order_by("id")
            .values_list("pk", "kind")[:1000]
        )
        stale, kinds_sent = [], set()
        for event_id, kind in rows:
            if kind in together:  # its handler takes the others of its kind: one is enough
                if kind in kinds_sent:
                    continue
                kinds_sent.add(kind)
            stale.append(event_id)
    sent = []
    for event_id in stale:
        if not dispatch_event(event_id):
            break  # the queue is down: the next sweep tries again
        sent.append(event_id)
    if sent:  # not called lost again for OUTBOX_REDISPATCH_AFTER
        OutboxEvent.objects.filter(pk__in=sent).update(dispatched_at=timezone.now())
    return len(stale)


# process_event's statement, written by hand: the ORM spent more of the worker's time building
# its statements (about 1.2 ms for a locking read and a save) than PostgreSQL spent running them,
# once for every event. One UPDATE both claims the event and marks it processed: it takes the
# row lock a locking read would, and a second worker that waited on that lock finds the event
# processed once the first commits (PostgreSQL reads the row again before updating it) and
# gets no row back. A locking read and a separate mark cost one more round trip per event. The
# payload comes back as JSON text (Django's PostgreSQL backend does not decode jsonb on a plain
# cursor; SQLite stores text).
_TABLE = OutboxEvent._meta.db_table
_CLAIM_EVENT = (
    f"UPDATE {_TABLE} SET attempts = attempts + 1, processed_at = %s"  # noqa: S608
    " WHERE id = %s AND processed_at IS NULL RETURNING kind, payload"
)


def process_event(event_id: int, handlers: Mapping[str, Handler]) -> bool:
    """Run the handler of one event at most once to completion.

    The row lock serialises workers that got the same event twice; the handler runs in the same
    transaction as the ``processed_at`` mark (written first, with the claim, and rolled back
    with the handler's work if it fails), so a worker killed half-way leaves no trace and the
    event is simply processed again. Returns whether this call did the work.
    """
    alias = router.db_for_write(OutboxEvent)
    with transaction.atomic(using=alias):
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_EVENT, [connection.ops.adapt_datetimefield_value(timezone.now()), event_id])
            row = cursor.fetchone()
        if row is None:  # no such event, or already processed
            return False
        kind, payload = row
        handlers[kind](json.loads(payload) if isinstance(payload, str | bytes) else payload)
    return True


def unprocessed_events_exist(*, kinds: Collection[str], intent_id: str) -> bool:
    """Whether any event of ``kinds`` about this intent is still unprocessed (or being
    processed right now: its mark is not committed)."""
    return OutboxEvent.objects.filter(processed_at__isnull=True, kind__in=kinds, payload__intent_id=intent_id).exists()


def forget_events(*, intent_ids: list[str]) -> int:
    """Delete the outbox events about these intents (an erased customer's); returns how many."""
    deleted, _ = OutboxEvent.objects.filter(payload__intent_id__in=intent_ids).delete()
    return deleted


@cache
def configured_handlers() -> Mapping[str, Handler]:
    """The handler of each event kind, from ``settings.INTENTCAST["OUTBOX_HANDLERS"]``."""
    handlers: Mapping[str, Handler] = import_string(settings.INTENTCAST["OUTBOX_HANDLERS"])
    return handlers


@shared_task(acks_late=True, reject_on_worker_lost=True)
def process_outbox_event(event_id: int) -> None:
    try:
        process_event(event_id, configured_handlers())
    except EventMustWait as waiting:
        log.info("outbox event %s waits: %s", event_id, waiting)


@shared_task
def redispatch_outbox() -> int:
    """Beat's sweep: dispatch again the events the queue never took."""
    return redispatch_unprocessed()
