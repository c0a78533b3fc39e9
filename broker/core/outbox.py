"""The transactional outbox: facts written with the change, dispatched after commit.

A service records an event (``record_event``) in its own transaction; after commit the event is
handed to the ``process_outbox_event`` task, which runs the handler for its kind. The handlers
belong to the floor that reacts to the facts (the pipeline, ``broker.pipeline.handlers``), which
the core does not import: ``settings.INTENTCAST["OUTBOX_HANDLERS"]`` names them, as Django names
middleware, so the outbox stays at the bottom while the pipeline above it decides what a fact
sets in motion.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError

from broker.models import OutboxEvent

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]


def record_event(kind: str, payload: dict[str, Any]) -> OutboxEvent:
    """Write an outbox event in the caller's transaction and dispatch it once that commits."""
    event = OutboxEvent.objects.create(kind=kind, payload=payload)
    transaction.on_commit(lambda: dispatch_event(event.pk))
    return event


def dispatch_event(event_id: int) -> None:
    """Hand an event to the workers. If the queue is unreachable the event stays in the outbox
    and ``redispatch_unprocessed`` sends it again later; nothing is lost."""
    try:
        process_outbox_event.delay(event_id)
    except (OperationalError, OSError):  # the queue is unreachable
        log.warning("outbox event %s not dispatched; it will be retried", event_id, exc_info=True)
        return
    OutboxEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).update(dispatched_at=timezone.now())


def redispatch_unprocessed() -> int:
    """Dispatch again every event left unprocessed for longer than OUTBOX_REDISPATCH_AFTER."""
    cutoff = timezone.now() - settings.INTENTCAST["OUTBOX_REDISPATCH_AFTER"]
    stale = list(
        OutboxEvent.objects.filter(processed_at__isnull=True, created_at__lt=cutoff)
        .order_by("id")
        .values_list("pk", flat=True)[:1000]
    )
    for event_id in stale:
        dispatch_event(event_id)
    return len(stale)


def process_event(event_id: int, handlers: Mapping[str, Handler]) -> bool:
    """Run the handler of one event at most once to completion.

    The row lock serialises workers that got the same event twice; the handler runs in the same
    transaction as the ``processed_at`` mark, so a worker killed half-way leaves no trace and
    the event is simply processed again. Returns whether this call did the work.
    """
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.processed_at is not None:
            return False
        event.attempts += 1
        handlers[event.kind](event.payload)
        event.processed_at = timezone.now()
        event.save(update_fields=["attempts", "processed_at"])
    return True


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
    process_event(event_id, configured_handlers())


@shared_task
def redispatch_outbox() -> int:
    """Beat's sweep: dispatch again the events the queue never took."""
    return redispatch_unprocessed()
