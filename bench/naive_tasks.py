"""Bench-only Celery tasks; the bench worker imports them with ``-I bench.naive_tasks``.

``naive_fanout`` is the design the project does not use: match, then one task per matched
vendor, each writing its own Delivery with ``get_or_create``. It exists only so that
``bench/fanout.py`` can measure the real pipeline against it in the same run.
"""

from __future__ import annotations

from celery import shared_task

READY_KEY = "bench:worker-ready"


@shared_task
def ping() -> None:
    """Tells the bench the worker is consuming (there is no result backend)."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).set(READY_KEY, "1", ex=600)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def naive_fanout(intent_id: str) -> int:
    from broker.pipeline.matching import match_intent
    from intents.models import Intent

    intent = Intent.objects.select_related("category", "region").get(pk=intent_id)
    matches = match_intent(intent)
    for match in matches:
        naive_deliver.delay(intent_id, match.vendor_id, str(match.subscription_id))
    return len(matches)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def naive_deliver(intent_id: str, vendor_id: int, subscription_id: str) -> None:
    from vendors.models import Delivery

    Delivery.objects.get_or_create(
        intent_id=intent_id, vendor_id=vendor_id, defaults={"subscription_id": subscription_id}
    )
