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
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

import httpcore
import httpx
from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError
from standardwebhooks import Webhook

from broker.core.audit import record_audit
from broker.core.bulk import filter_by_ids, insert_ignoring_conflicts
from broker.core.mail import email_after_commit
from vendors.models import Vendor, VendorEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from vendors.payloads import envelope

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

RETRY_DELAYS = [5, 60, 300, 1800, 7200, 18000, 36000, 36000, 86400, 86400]
JITTER = 0.1
USER_AGENT = "intentcast-webhooks/1"

_client: httpcore.ConnectionPool | None = None
_senders: ThreadPoolExecutor | None = None

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

    A host's checked addresses are kept for ``WEBHOOK_DNS_TTL_SECONDS``: new connections in that
    time skip the lookup and go to the same approved addresses (a refusal is not kept: the next
    connection asks again). httpcore still speaks TLS with the URL's host name (SNI, certificate)
    and sends its Host header; only the TCP connection goes to the checked address."""

    MAX_HOSTS = 10_000

    def __init__(self, ttl: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._answers: dict[tuple[str, int], tuple[float, list[IPAddress]]] = {}
        self._lock = threading.Lock()

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        key, now = (host, port), self.clock()
        with self._lock:
            cached = self._answers.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        addresses = checked_addresses(host, port)
        if self.ttl > 0:
            with self._lock:
                if len(self._answers) >= self.MAX_HOSTS:
                    self._answers.clear()
                self._answers[key] = (now + self.ttl, addresses)
        return addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in self.addresses(host, port):
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last


def http_client() -> httpcore.ConnectionPool:
    """One connection pool per worker process, so keep-alive connections are reused: one per
    endpoint (an endpoint gets one request at a time), up to a few hundred endpoints. httpcore
    directly: httpx's request and response models cost as much CPU as the request itself, and
    a webhook needs none of what they add (no redirects, no proxies, no cookies). Every new
    connection goes to the host's checked addresses (``CheckedNetworkBackend``)."""
    global _client
    if _client is None:
        _client = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=500,
            max_keepalive_connections=500,
            keepalive_expiry=30,
            network_backend=CheckedNetworkBackend(settings.INTENTCAST["WEBHOOK_DNS_TTL_SECONDS"]),
        )
    return _client


def sender_pool() -> ThreadPoolExecutor:
    """The threads that send a batch's requests, endpoints in parallel (``WEBHOOK_CONCURRENCY``)."""
    global _senders
    if _senders is None:
        _senders = ThreadPoolExecutor(
            max_workers=settings.INTENTCAST["WEBHOOK_CONCURRENCY"], thread_name_prefix="webhooks"
        )
    return _senders


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
        (
            (httpx.ProtocolError, httpx.ReadError, httpx.WriteError, httpcore.ProtocolError, httpcore.NetworkError),
            "connection broken",
        ),
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
        transaction.on_commit(lambda: _enqueue([delivery.pk]))
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
    send_after_commit(list(events.values()))


class _SendAfterCommit:
    """The events whose webhooks one transaction scheduled, sent together once it commits."""

    def __init__(self) -> None:
        self.event_ids: list[int] = []

    def __call__(self) -> None:
        send_pending(self.event_ids)


def send_after_commit(event_ids: list[int]) -> None:
    """Send these events' webhooks after commit, with those of every other call in the same
    transaction: a transaction that records many events (a fan-out, a batch of bids declined)
    enqueues full batches, not one small batch per call. Ids of a savepoint rolled back stay in
    the list harmlessly: their deliveries do not exist, so nothing is sent for them."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        send_pending(event_ids)
        return
    # Django keeps the transaction's callbacks in ``run_on_commit`` and drops them on rollback,
    # so a collector found there belongs to this transaction.
    collector = next((c for _, c, _ in connection.run_on_commit if isinstance(c, _SendAfterCommit)), None)
    if collector is None:
        collector = _SendAfterCommit()
        transaction.on_commit(collector)
    collector.event_ids.extend(event_ids)


def send_pending(event_ids: list[int]) -> None:
    """Enqueue the first attempt of every pending delivery of these events, in batches."""
    first_attempts = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, attempt_count=0)
    pending: list[int] = []
    for rows in filter_by_ids(first_attempts, "event", event_ids):
        pending.extend(rows.order_by("endpoint_id", "pk").values_list("pk", flat=True))
    _enqueue_batches(pending)


def _enqueue_batches(delivery_ids: list[int], *, expires: float | None = None) -> bool:
    """One message per batch. The ids come sorted by endpoint, so an endpoint's deliveries share
    a batch (and are sent in order) as far as the batch size allows."""
    size = settings.INTENTCAST["WEBHOOK_BATCH_SIZE"]
    for start in range(0, len(delivery_ids), size):
        if not _enqueue(delivery_ids[start : start + size], expires=expires):
            return False
    return True


def _enqueue(delivery_ids: list[int], *, expires: float | None = None) -> bool:
    try:
        if expires is None:
            deliver_webhooks.apply_async((delivery_ids,))
        else:
            deliver_webhooks.apply_async((delivery_ids,), expires=expires)
    except (OperationalError, OSError):  # queue down: beat's retry_due_webhooks picks them up
        log.warning("%d webhook deliveries not enqueued; they will be retried", len(delivery_ids), exc_info=True)
        return False
    return True


def signed_request(
    endpoint: WebhookEndpoint, event: VendorEvent, signers: Sequence[Webhook] | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery, signed (Standard Webhooks) with the endpoint's
    secret, and during a rotation's overlap with the previous one too (one signature each);
    ``signers`` are those secrets' signers when the caller already holds them."""
    body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True)
    now = datetime.now(UTC)
    signature = " ".join(
        signer.sign(msg_id=event.message_id, timestamp=now, data=body)
        for signer in signers or [Webhook(secret) for secret in signing_secrets(endpoint, now)]
    )
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return body.encode(), headers


@dataclass
class Outcome:
    delivery: WebhookDelivery
    attempted_at: datetime
    status_code: int | None
    error: str
    latency_ms: int

    @property
    def succeeded(self) -> bool:
        return not self.error


def attempt_delivery(delivery_id: int) -> bool | None:
    """Try one due delivery once. Returns True/False for success/failure, None if it was not
    due (already sent, given up, or leased by another worker)."""
    return send_batch([delivery_id]).get(delivery_id)


def send_batch(delivery_ids: list[int]) -> dict[int, bool]:
    """Try each of these deliveries that is due, once; returns whether each one tried succeeded.

    1. Lease: the due rows are locked with ``FOR UPDATE SKIP LOCKED`` (rows another worker holds
       are skipped, not waited for) and their next attempt moved past the time this batch can
       take, in one short transaction. A worker that dies leaves them due again once the lease
       ends: at least once.
    2. Send: each endpoint's deliveries one after another, in order, over its keep-alive
       connection; endpoints in parallel on ``WEBHOOK_CONCURRENCY`` threads.
    3. Record: every attempt in one bulk insert and the deliveries in two updates, one transaction.
    """
    leased_ids = _lease(delivery_ids)
    if not leased_ids:
        return {}
    deliveries: list[WebhookDelivery] = []
    for rows in filter_by_ids(WebhookDelivery.objects.select_related("event", "endpoint"), "id", leased_ids):
        deliveries.extend(rows.order_by("endpoint_id", "pk"))
    by_endpoint: dict[object, list[WebhookDelivery]] = defaultdict(list)
    for delivery in deliveries:
        by_endpoint[delivery.endpoint_id].append(delivery)
    groups = list(by_endpoint.values())
    if len(groups) == 1:
        outcomes = _send_in_order(groups[0])
    else:
        outcomes = [outcome for done in sender_pool().map(_send_in_order, groups) for outcome in done]
    _record_outcomes(outcomes)
    return {outcome.delivery.pk: outcome.succeeded for outcome in outcomes}


# One statement on PostgreSQL: lock the due rows no other worker holds, and lease each until the
# worst case of the requests before it to the same endpoint and its own (one timeout each).
LEASE_SQL = """
UPDATE vendors_webhookdelivery AS delivery
SET next_attempt_at = %(now)s + make_interval(secs => %(timeout)s * leased.position + 30)
FROM (
    SELECT id, row_number() OVER (PARTITION BY endpoint_id ORDER BY id) AS position
    FROM (
        SELECT id, endpoint_id FROM vendors_webhookdelivery
        WHERE id = ANY(%(ids)s) AND status = 'pending' AND next_attempt_at <= %(now)s
        FOR UPDATE SKIP LOCKED
    ) AS due
) AS leased
WHERE delivery.id = leased.id
RETURNING delivery.id
"""


def _lease(delivery_ids: list[int]) -> list[int]:
    """Lease the due deliveries among these (see ``send_batch``); returns their ids."""
    now = timezone.now()
    timeout = settings.INTENTCAST["WEBHOOK_TIMEOUT_SECONDS"]
    connection = transaction.get_connection()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(LEASE_SQL, {"now": now, "timeout": timeout, "ids": list(delivery_ids)})
                return [row[0] for row in cursor.fetchall()]
        pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        leased = list(
            pending.select_for_update(skip_locked=True)
            .filter(pk__in=delivery_ids)
            .order_by("endpoint_id", "pk")
            .values_list("pk", "endpoint_id")
        )
        if leased:
            longest = max(Counter(endpoint_id for _, endpoint_id in leased).values())
            lease_until = now + timedelta(seconds=timeout * longest + 30)
            WebhookDelivery.objects.filter(pk__in=[pk for pk, _ in leased]).update(next_attempt_at=lease_until)
        return [pk for pk, _ in leased]


def _send_in_order(deliveries: list[WebhookDelivery]) -> list[Outcome]:
    """One endpoint's deliveries, one after another (no database access: this runs in a thread)."""
    endpoint = deliveries[0].endpoint
    outcomes: list[Outcome] = []
    if not endpoint.active:
        return [Outcome(delivery, timezone.now(), None, "endpoint disabled", 0) for delivery in deliveries]
    try:
        check_url_form(endpoint.url)
    except ValidationError:
        return [Outcome(delivery, timezone.now(), None, "refused URL", 0) for delivery in deliveries]
    signers = [Webhook(secret) for secret in signing_secrets(endpoint, datetime.now(UTC))]
    pool = http_client()
    timeout = settings.INTENTCAST["WEBHOOK_TIMEOUT_SECONDS"]
    extensions = {"timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}}
    for delivery in deliveries:
        status_code, error = None, ""
        attempted_at, started = timezone.now(), time.monotonic()
        try:
            body, headers = signed_request(endpoint, delivery.event, signers)
            response = pool.request(
                "POST", endpoint.url, headers=list(headers.items()), content=body, extensions=extensions
            )
            status_code = response.status
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except (
            httpcore.TimeoutException,
            httpcore.NetworkError,
            httpcore.ProtocolError,
            httpcore.UnsupportedProtocol,
            OSError,
        ) as exc:
            error = error_class(exc)
        except Exception:  # noqa: BLE001 (one delivery's surprise must not cost the batch its record)
            log.exception("webhook delivery %s failed unexpectedly", delivery.pk)
            error = "request failed"
        latency_ms = int((time.monotonic() - started) * 1000)
        outcomes.append(Outcome(delivery, attempted_at, status_code, error, latency_ms))
    return outcomes


@transaction.atomic
def _record_outcomes(outcomes: list[Outcome]) -> None:
    insert_ignoring_conflicts(
        WebhookAttempt,
        ["delivery", "attempted_at", "response_status", "latency_ms", "error", "succeeded"],
        [(o.delivery.pk, o.attempted_at, o.status_code, o.latency_ms, o.error, o.succeeded) for o in outcomes],
    )
    succeeded = [o.delivery.pk for o in outcomes if o.succeeded]
    for rows in filter_by_ids(WebhookDelivery.objects.all(), "id", succeeded):
        rows.update(status=WebhookDelivery.Status.SUCCEEDED, attempt_count=F("attempt_count") + 1, next_attempt_at=None)
    failed = [o.delivery for o in outcomes if not o.succeeded]
    now = timezone.now()
    for delivery in failed:
        delivery.attempt_count += 1
        delay = next_delay(delivery.attempt_count) if delivery.endpoint.active else None
        if delay is None:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + timedelta(seconds=delay)
    WebhookDelivery.objects.bulk_update(failed, ["attempt_count", "status", "next_attempt_at"])
    given_up: dict[object, WebhookDelivery] = {}
    for delivery in failed:
        if delivery.status == WebhookDelivery.Status.FAILED and delivery.endpoint.active:
            given_up.setdefault(delivery.endpoint_id, delivery)
    for delivery in given_up.values():
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


def dispatch_due(limit: int = 5000) -> int:
    """Enqueue, in batches, every pending delivery whose retry is due, and every first attempt
    still unsent ``OUTBOX_REDISPATCH_AFTER`` after it was due (the queue never took it: Redis was
    down at commit). Beat runs it every ``PIPELINE_SWEEP_SECONDS``. First attempts are otherwise
    left to the messages sent after commit, so a long queue is not filled again every second;
    the sweep's messages expire after a few sweeps, and a delivery two messages name is sent
    once (the lease)."""
    now = timezone.now()
    overdue = now - settings.INTENTCAST["OUTBOX_REDISPATCH_AFTER"]
    due = (
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(attempt_count__gt=0) | Q(next_attempt_at__lte=overdue))
        .order_by("next_attempt_at")
        .values_list("pk", "endpoint_id")[:limit]
    )
    ordered = [pk for pk, _ in sorted(due, key=lambda row: (str(row[1]), row[0]))]
    _enqueue_batches(ordered, expires=max(settings.PIPELINE_SWEEP.total_seconds(), 1.0) * 5)
    return len(ordered)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhooks(delivery_ids: list[int]) -> None:
    send_batch(delivery_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(delivery_id: int) -> None:
    """One delivery (messages queued before deliveries were batched)."""
    send_batch([delivery_id])


@shared_task
def retry_due_webhooks() -> int:
    """Beat's sweep: enqueue every delivery whose next attempt is due."""
    return dispatch_due()
