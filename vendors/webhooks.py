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
import ssl
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

import httpcore
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

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Where an IPv6 address carries an IPv4 one that is where the packets really go: the embedded
# address is checked (DNS64 answers 64:ff9b::a.b.c.d for IPv4-only hosts on IPv6-only networks).
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Forms whose real destination cannot be told from the address: refused outright.
UNCHECKABLE = [
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
    ipaddress.ip_network("2001::/32"),  # Teredo: a relay, then the client's NAT
    ipaddress.ip_network("::/96"),  # IPv4-compatible (deprecated)
    ipaddress.ip_network("::ffff:0:0:0/96"),  # SIIT IPv4-translated
]


class RefusedAddress(httpcore.ConnectError):
    """The host resolved to an address webhooks must not reach."""


class UnresolvableHost(httpcore.ConnectError):
    """The host name does not resolve."""


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of ``host`` (itself when it is an address), from one DNS lookup."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UnresolvableHost(host) from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvableHost(host)
    return addresses


def is_public(address: IPAddress) -> bool:
    """A global unicast address, with IPv6 forms that wrap an IPv4 address unwrapped first."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network in UNCHECKABLE):
            return False
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def checked_addresses(host: str, port: int) -> list[IPAddress]:
    """Resolve ``host`` once; refuse unless every address is public (or private ones are allowed)."""
    addresses = resolve(host, port)
    if not settings.INTENTCAST["WEBHOOKS_ALLOW_PRIVATE"] and not all(is_public(a) for a in addresses):
        raise RefusedAddress(host)
    return addresses


class CheckedNetworkBackend(httpcore.SyncBackend):
    """Connects to the address that was checked, never to a second answer of the DNS (rebinding).

    httpcore still speaks TLS with the URL's host name (SNI, certificate) and sends its Host
    header; only the TCP connection goes to the checked address."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in checked_addresses(host, port):
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last


class CheckedTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=CheckedNetworkBackend()
        )


def http_client() -> httpx.Client:
    """One pooled client per worker process, so keep-alive connections are reused. Every new
    connection resolves the host once, checks the addresses and connects to one of them."""
    global _client
    if _client is None:
        _client = httpx.Client(
            timeout=settings.INTENTCAST["WEBHOOK_TIMEOUT_SECONDS"],
            follow_redirects=False,
            trust_env=False,
            transport=CheckedTransport(),
        )
    return _client


def error_class(exc: BaseException) -> str:
    """A coarse name for why a request failed, never the socket's own text (which can tell a
    vendor about our network)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    classes: list[tuple[type[BaseException] | tuple[type[BaseException], ...], str]] = [
        (RefusedAddress, "refused address"),
        (UnresolvableHost, "host does not resolve"),
        ((httpx.TimeoutException, httpcore.TimeoutException, TimeoutError), "timeout"),
        (ssl.SSLError, "TLS error"),
        (ConnectionRefusedError, "connection refused"),
        ((httpx.ConnectError, httpcore.ConnectError), "connection failed"),
        ((httpx.ProtocolError, httpx.ReadError, httpx.WriteError), "connection broken"),
    ]
    for kind, name in classes:
        if any(isinstance(link, kind) for link in chain):
            return name
    return "request failed"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def next_delay(attempt_count: int) -> float | None:
    """Seconds to wait after failed attempt number ``attempt_count``; None once given up."""
    if attempt_count > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[attempt_count - 1]
    return base * random.uniform(1 - JITTER, 1 + JITTER)


def check_url_form(url: str) -> SplitResult:
    """An http(s) URL with a host; https unless private receivers are allowed (no DNS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError({"url": "Enter an http(s) URL."})
    if parts.scheme != "https" and not settings.INTENTCAST["WEBHOOKS_ALLOW_PRIVATE"]:
        raise ValidationError({"url": "Webhook URLs must use https."})
    return parts


def check_url(url: str) -> None:
    """Refuse URLs that would let a vendor make the broker call its own network.

    Checked on registration; every send checks again as it connects, and connects to the address
    it checked (``CheckedNetworkBackend``), so a DNS answer that changes in between
    (rebinding) cannot point a delivery at our network.
    """
    parts = check_url_form(url)
    if settings.INTENTCAST["WEBHOOKS_ALLOW_PRIVATE"]:
        return
    try:
        checked_addresses(parts.hostname or "", parts.port or 443)
    except UnresolvableHost:
        raise ValidationError({"url": "The host name does not resolve."}) from None
    except RefusedAddress:
        raise ValidationError({"url": "The URL must not point at a private, loopback or link-local address."}) from None


def register_endpoint(*, vendor: Vendor, url: str, events: list[str] | None = None) -> WebhookEndpoint:
    known = set(VendorEvent.Kind.values)
    unknown = sorted(set(events or []) - known)
    if unknown:
        raise ValidationError({"events": f"Unknown events: {', '.join(unknown)}."})
    check_url(url)
    return WebhookEndpoint.objects.create(vendor=vendor, url=url, events=list(events or []), secret=new_secret())


def rotate_secret(*, endpoint: WebhookEndpoint, actor: User | None = None) -> str:
    """A new secret for ``endpoint``, returned once. The old one keeps signing beside it until
    ``INTENTCAST["WEBHOOK_SECRET_OVERLAP"]`` has passed (Standard Webhooks sends several
    signatures), so the receiver can switch to the new secret without rejecting an event."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = timezone.now() + settings.INTENTCAST["WEBHOOK_SECRET_OVERLAP"]
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        record_audit(actor=actor, action="webhook_endpoint.secret_rotated", target=endpoint)
    return endpoint.secret


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a message sent at ``now``: the current one, and the previous one
    while the rotation's overlap window lasts."""
    found = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and now < endpoint.previous_secret_until:
        found.append(endpoint.previous_secret)
    return found


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
    signature = " ".join(
        Webhook(secret).sign(msg_id=event.message_id, timestamp=now, data=body)
        for secret in signing_secrets(endpoint, now)
    )
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
            check_url_form(endpoint.url)
            body, headers = signed_request(endpoint, delivery.event)
            response = http_client().post(endpoint.url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except ValidationError:
            error = "refused URL"
        except httpx.HTTPError as exc:
            error = error_class(exc)
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
