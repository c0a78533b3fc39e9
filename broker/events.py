"""Events sent to vendors: recorded once per (vendor, kind, subject), then sent as webhooks."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from broker.models import VendorEvent, WebhookDelivery, WebhookEndpoint

CHUNK = 5000


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def record_vendor_events(*, kind: str, subject: str, data_by_vendor: Mapping[int, dict]) -> None:
    """Record ``kind`` about ``subject`` for each vendor, with that vendor's own view of it.

    Unique per (vendor, kind, subject), so recording twice records once; webhooks for the events
    are scheduled in the same transaction and sent after commit.
    """
    if not data_by_vendor:
        return
    timestamp = timezone.now().isoformat()
    VendorEvent.objects.bulk_create(
        [
            VendorEvent(
                vendor_id=vendor_id,
                kind=kind,
                subject=subject,
                payload={"type": kind, "timestamp": timestamp, "data": data},
            )
            for vendor_id, data in data_by_vendor.items()
        ],
        batch_size=settings.INTENTCAST["DELIVERY_BATCH_SIZE"],
        ignore_conflicts=True,
    )
    schedule_webhooks(kind=kind, subject=subject, vendor_ids=list(data_by_vendor))


def schedule_webhooks(*, kind: str, subject: str, vendor_ids: list[int]) -> None:
    endpoints: list[WebhookEndpoint] = []
    for chunk in _chunks(vendor_ids):
        endpoints.extend(WebhookEndpoint.objects.filter(vendor_id__in=chunk, active=True))
    endpoints = [endpoint for endpoint in endpoints if endpoint.wants(kind)]
    if not endpoints:
        return
    events: dict[int, int] = {}
    for chunk in _chunks(sorted({e.vendor_id for e in endpoints})):
        events.update(
            VendorEvent.objects.filter(kind=kind, subject=subject, vendor_id__in=chunk).values_list("vendor_id", "id")
        )
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(event_id=events[endpoint.vendor_id], endpoint=endpoint, next_attempt_at=now)
            for endpoint in endpoints
        ],
        batch_size=settings.INTENTCAST["DELIVERY_BATCH_SIZE"],
        ignore_conflicts=True,
    )
    event_ids = list(events.values())
    transaction.on_commit(lambda: send_pending_webhooks(event_ids))


def send_pending_webhooks(event_ids: list[int]) -> None:
    from broker.tasks import deliver_webhook

    pending = WebhookDelivery.objects.filter(
        event_id__in=event_ids, status=WebhookDelivery.Status.PENDING, attempt_count=0
    ).values_list("pk", flat=True)
    for delivery_id in pending:
        try:
            deliver_webhook.delay(delivery_id)
        except (OperationalError, OSError):  # queue down: the periodic retry_webhooks task sends it later
            return
