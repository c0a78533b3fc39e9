"""Webhooks vendors can trust: Standard Webhooks signatures, retries with backoff, a record of
every attempt, endpoints that keep failing switched off (and the vendor told).

Retry schedule, counted from the previous failure (each wait ±10% jitter)::

    5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 24 h, 24 h   (about 3.1 days in all)

After the last retry the delivery is given up; if the endpoint has not succeeded once since
that delivery's first attempt it is disabled, the vendor gets a ``webhook.endpoint_disabled``
event (visible in ``GET /api/v1/events/``) and an email, and the admin audit log records it.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import random
import secrets
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError
from standardwebhooks import Webhook

from broker.core.audit import record_audit
from broker.core.bulk import filter_by_ids
from broker.core.mail import email_after_commit
from vendors.models import Vendor, VendorEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from vendors.payloads import envelope

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

RETRY_DELAYS = [5, 60, 300, 1800, 7200, 18000, 36000, 36000, 86400, 86400]
JITTER = 0.1
USER_AGENT = "intentcast-webhooks/1"

_client: httpx.Client | None = None


def http_client() -> httpx.Client:
    """One pooled client per worker process, so keep-alive connections are reused."""
    global _client
    if _client is None:
        _client = httpx.Client(
            timeout=settings.INTENTCAST["WEBHOOK_TIMEOUT_SECONDS"], follow_redirects=False, trust_env=False
        )
    return _client


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def next_delay(attempt_count: int) -> float | None:
    """Seconds to wait after failed attempt number ``attempt_count``; None once given up."""
    if attempt_count > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[attempt_count - 1]
    return base * random.uniform(1 - JITTER, 1 + JITTER)


def check_url(url: str) -> None:
    """Refuse URLs that would let a vendor make the broker call its own network.

    Done by hand because it is a dozen lines of ``ipaddress``; checked on registration and again
    before every send (DNS can change in between).
    """
    parts = urlsplit(url)
    allow_private = settings.INTENTCAST["WEBHOOKS_ALLOW_PRIVATE"]
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError({"url": "Enter an http(s) URL."})
    if parts.scheme != "https" and not allow_private:
        raise ValidationError({"url": "Webhook URLs must use https."})
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise ValidationError({"url": "The host name does not resolve."}) from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            raise ValidationError({"url": "The URL must not point at a private, loopback or link-local address."})


def register_endpoint(*, vendor: Vendor, url: str, events: list[str] | None = None) -> WebhookEndpoint:
    known = set(VendorEvent.Kind.values)
    unknown = sorted(set(events or []) - known)
    if unknown:
        raise ValidationError({"events": f"Unknown events: {', '.join(unknown)}."})
    check_url(url)
    return WebhookEndpoint.objects.create(vendor=vendor, url=url, events=list(events or []), secret=new_secret())


def delete_endpoint(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def ping_endpoint(*, endpoint: WebhookEndpoint) -> VendorEvent:
    """Send a ``webhook.ping`` event to one endpoint, through the same path as every event."""
    now = timezone.now()
    with transaction.atomic():
        event = VendorEvent.objects.create(
            vendor_id=endpoint.vendor_id,
            kind=VendorEvent.Kind.PING,
            subject=str(uuid.uuid4()),
            payload=envelope(VendorEvent.Kind.PING, now, {"endpoint": str(endpoint.pk)}),
        )
        delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=now)
        transaction.on_commit(lambda: _enqueue(delivery.pk))
    return event


def schedule_webhooks(*, kind: str, subject: str, vendor_ids: list[int]) -> None:
    """A ``WebhookDelivery`` for each active endpoint of these vendors that wants ``kind``, for
    their events about ``subject``; written in the caller's transaction, sent after commit."""
    endpoints: list[WebhookEndpoint] = []
    for queryset in filter_by_ids(WebhookEndpoint.objects.filter(active=True), "vendor", vendor_ids):
        endpoints.extend(queryset)
    endpoints = [endpoint for endpoint in endpoints if endpoint.wants(kind)]
    if not endpoints:
        return
    events: dict[int, int] = {}
    with_endpoints = sorted({e.vendor_id for e in endpoints})
    for vendor_events in filter_by_ids(
        VendorEvent.objects.filter(kind=kind, subject=subject), "vendor", with_endpoints
    ):
        events.update(vendor_events.values_list("vendor_id", "id"))
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
    transaction.on_commit(lambda: send_pending(event_ids))


def send_pending(event_ids: list[int]) -> None:
    """Enqueue the first attempt of every pending delivery of these events."""
    pending = WebhookDelivery.objects.filter(
        event_id__in=event_ids, status=WebhookDelivery.Status.PENDING, attempt_count=0
    ).values_list("pk", flat=True)
    for delivery_id in pending:
        if not _enqueue(delivery_id):
            return  # the queue is down: beat's retry_due_webhooks sends them later


def _enqueue(delivery_id: int) -> bool:
    try:
        deliver_webhook.delay(delivery_id)
    except (OperationalError, OSError):  # queue down: beat's retry_due_webhooks picks it up
        log.warning("webhook delivery %s not enqueued; it will be retried", delivery_id, exc_info=True)
        return False
    return True


def signed_request(endpoint: WebhookEndpoint, event: VendorEvent) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True)
    now = datetime.now(UTC)
    signature = Webhook(endpoint.secret).sign(msg_id=event.message_id, timestamp=now, data=body)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return body.encode(), headers


def attempt_delivery(delivery_id: int) -> bool | None:
    """Try one due delivery once. Returns True/False for success/failure, None if it was not
    due (already sent, given up, or leased by another worker)."""
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.INTENTCAST["WEBHOOK_TIMEOUT_SECONDS"] + 30)
    leased = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=lease_until)
    if not leased:
        return None
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    status_code, error = None, ""
    started = time.monotonic()
    if not endpoint.active:
        error = "endpoint disabled"
    else:
        try:
            check_url(endpoint.url)
            body, headers = signed_request(endpoint, delivery.event)
            response = http_client().post(endpoint.url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except ValidationError as exc:
            error = "; ".join(exc.messages)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
    latency_ms = int((time.monotonic() - started) * 1000)
    succeeded = not error
    _record_outcome(delivery, succeeded=succeeded, status_code=status_code, error=error, latency_ms=latency_ms)
    return succeeded


@transaction.atomic
def _record_outcome(
    delivery: WebhookDelivery, *, succeeded: bool, status_code: int | None, error: str, latency_ms: int
) -> None:
    WebhookAttempt.objects.create(
        delivery=delivery, response_status=status_code, latency_ms=latency_ms, error=error, succeeded=succeeded
    )
    delivery.attempt_count += 1
    if succeeded:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.next_attempt_at = None
    else:
        delay = next_delay(delivery.attempt_count) if delivery.endpoint.active else None
        if delay is None:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    delivery.save(update_fields=["attempt_count", "status", "next_attempt_at"])
    if delivery.status == WebhookDelivery.Status.FAILED and delivery.endpoint.active:
        _disable_if_failing(delivery)


def _disable_if_failing(delivery: WebhookDelivery) -> None:
    endpoint = delivery.endpoint
    first_attempt = delivery.attempts.order_by("attempted_at").values_list("attempted_at", flat=True).first()
    if WebhookAttempt.objects.filter(
        delivery__endpoint=endpoint, succeeded=True, attempted_at__gte=first_attempt
    ).exists():
        return
    disable_endpoint(endpoint=endpoint, reason="every delivery failed for about three days")


def disable_endpoint(*, endpoint: WebhookEndpoint, reason: str, actor: User | None = None) -> None:
    endpoint.active = False
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = reason[:200]
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason"])
    WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, next_attempt_at=None
    )
    VendorEvent.objects.create(
        vendor_id=endpoint.vendor_id,
        kind=VendorEvent.Kind.ENDPOINT_DISABLED,
        subject=f"{endpoint.pk}:{int(endpoint.disabled_at.timestamp())}",
        payload=envelope(
            VendorEvent.Kind.ENDPOINT_DISABLED,
            endpoint.disabled_at,
            {"endpoint": str(endpoint.pk), "url": endpoint.url, "reason": endpoint.disabled_reason},
        ),
    )
    record_audit(actor=actor, action="webhook_endpoint.disabled", target=endpoint, reason=endpoint.disabled_reason)
    email_after_commit(
        to=endpoint.vendor.contact_email,
        subject="Your intentcast webhook endpoint was disabled",
        body=f"We disabled {endpoint.url} because {endpoint.disabled_reason}. "
        "Register it again through /api/v1/webhooks/ once it works; missed events are in /api/v1/events/.",
    )


def dispatch_due(limit: int = 1000) -> int:
    """Enqueue every pending delivery whose next attempt is due (the periodic retry)."""
    due = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        _enqueue(delivery_id)
    return len(due)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(delivery_id: int) -> None:
    attempt_delivery(delivery_id)


@shared_task
def retry_due_webhooks() -> int:
    """Beat's sweep: enqueue every delivery whose next attempt is due."""
    return dispatch_due()
