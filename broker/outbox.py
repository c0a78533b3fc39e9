"""The transactional outbox: facts written with the change, dispatched after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from broker.models import OutboxEvent

log = logging.getLogger(__name__)

INTENT_PUBLISHED = "intent.published"


def record_event(kind: str, payload: dict) -> OutboxEvent:
    """Write an outbox event in the caller's transaction and dispatch it once that commits."""
    event = OutboxEvent.objects.create(kind=kind, payload=payload)
    transaction.on_commit(lambda: dispatch_event(event.pk))
    return event


def dispatch_event(event_id: int) -> None:
    """Hand an event to the workers. If the queue is unreachable the event stays in the outbox
    and ``redispatch_unprocessed`` sends it again later; nothing is lost."""
    from broker.tasks import process_outbox_event

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


def process_event(event_id: int, handlers: dict[str, Callable[[dict], None]]) -> bool:
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
