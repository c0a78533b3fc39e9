"""Celery tasks: thin, take ids, idempotent. The work is in the modules they call."""

from __future__ import annotations

from celery import shared_task

from broker import outbox, webhooks
from broker.pipeline import HANDLERS


@shared_task(acks_late=True, reject_on_worker_lost=True)
def process_outbox_event(event_id: int) -> None:
    outbox.process_event(event_id, HANDLERS)


@shared_task
def redispatch_outbox() -> int:
    return outbox.redispatch_unprocessed()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(delivery_id: int) -> None:
    webhooks.attempt_delivery(delivery_id)


@shared_task
def retry_webhooks() -> int:
    return webhooks.dispatch_due()


@shared_task
def expire_intents() -> int:
    from intents.services import expire_intents as expire
    from reputation.services import reveal_expired
    from vendors.services import expire_bids

    expire_bids()
    reveal_expired()
    return expire()
