"""The vendors' event log: every event sent to a vendor, once per (vendor, kind, subject), in
order. It is the body of the webhooks (scheduled in the same transaction, sent after commit) and
of ``GET /api/v1/events/``, where a vendor catches up on anything it missed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import psycopg
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.utils import timezone

from broker.core.bulk import insert_ignoring_conflicts
from vendors.models import VendorEvent, WebhookDelivery, WebhookEndpoint
from vendors.payloads import envelope, envelope_json
from vendors.webhooks import schedule_webhooks, send_after_commit

ERASED = {"erased": True}


def record_vendor_events(*, kind: str, subject: str, data_by_vendor: Mapping[int, dict[str, Any]]) -> None:
    """Record ``kind`` about ``subject`` for each vendor, with that vendor's own view of it.

    Unique per (vendor, kind, subject), so recording twice records once; webhooks for the events
    are scheduled in the same transaction and sent after commit.
    """
    record_vendor_events_json(
        kind=kind,
        subject=subject,
        data_json_by_vendor={vendor_id: json.dumps(data) for vendor_id, data in data_by_vendor.items()},
    )


def record_vendor_events_json(*, kind: str, subject: str, data_json_by_vendor: Mapping[int, str]) -> None:
    """``record_vendor_events`` with each vendor's data already encoded as JSON text, so that
    the fan-out can encode an intent once and splice in each vendor's handle."""
    if not data_json_by_vendor:
        return
    now = timezone.now()
    rows = [(vendor_id, envelope_json(kind, now, data)) for vendor_id, data in data_json_by_vendor.items()]
    connection = connections[router.db_for_write(VendorEvent)]
    if connection.vendor == "postgresql":
        event_ids = _record_and_schedule(connection, kind=kind, subject=subject, rows=rows, now=now)
        if event_ids:
            send_after_commit(event_ids)
        return
    insert_ignoring_conflicts(
        VendorEvent,
        ("vendor", "kind", "subject", "payload", "created_at"),
        [(vendor_id, kind, subject, payload, now) for vendor_id, payload in rows],
    )
    schedule_webhooks(kind=kind, subject=subject, vendor_ids=list(data_json_by_vendor))


def _record_and_schedule(
    connection: BaseDatabaseWrapper, *, kind: str, subject: str, rows: list[tuple[int, str]], now: datetime
) -> list[int]:
    """What ``insert_ignoring_conflicts`` and ``schedule_webhooks`` do, in one statement on
    PostgreSQL: insert the events, skipping those recorded already, and a pending webhook
    delivery for each active endpoint of their vendors that wants ``kind``, for the new events
    and the earlier ones alike. Returns the ids of the events with an endpoint, whose first
    attempts are to be sent after commit. Hand-written because the ORM has no data-modifying
    CTE: for the usual fan-out (50 vendors, most without an endpoint) the ORM's read of the
    endpoints cost the worker about 1 ms, more than the database spent on the three steps, and
    each step was a round trip. The rows travel as two binary arrays, as in
    ``insert_ignoring_conflicts``."""
    quote = connection.ops.quote_name
    events = quote(VendorEvent._meta.db_table)
    endpoints = quote(WebhookEndpoint._meta.db_table)
    deliveries = quote(WebhookDelivery._meta.db_table)
    sql = f"""
        WITH made AS (
            INSERT INTO {events} (vendor_id, kind, subject, payload, created_at)
            SELECT u.vendor_id, %(kind)s, %(subject)s, u.payload::jsonb, %(now)s
            FROM unnest(%(vendors)b::bigint[], %(payloads)b::text[]) AS u(vendor_id, payload)
            ON CONFLICT DO NOTHING
            RETURNING id, vendor_id
        ),
        hooked AS (
            SELECT id AS endpoint_id, vendor_id FROM {endpoints}
            WHERE active AND vendor_id = ANY(%(vendors)b::bigint[]) AND (events = '[]'::jsonb OR events ? %(kind)s)
        ),
        recorded AS (
            SELECT id, vendor_id FROM made
            UNION ALL
            SELECT id, vendor_id FROM {events}
            WHERE kind = %(kind)s AND subject = %(subject)s AND vendor_id IN (SELECT vendor_id FROM hooked)
        ),
        due AS (SELECT r.id AS event_id, h.endpoint_id FROM recorded r JOIN hooked h USING (vendor_id)),
        scheduled AS (
            INSERT INTO {deliveries} (event_id, endpoint_id, status, attempt_count, next_attempt_at, created_at)
            SELECT event_id, endpoint_id, %(pending)s, 0, %(now)s, %(now)s FROM due
            ON CONFLICT DO NOTHING
        )
        SELECT DISTINCT event_id FROM due
    """  # noqa: S608 (the table names are the models'; every value is a parameter)
    params = {
        "kind": kind,
        "subject": subject,
        "now": now,
        "vendors": [vendor_id for vendor_id, _ in rows],
        "payloads": [payload for _, payload in rows],
        "pending": WebhookDelivery.Status.PENDING.value,
    }
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:  # server-side binding, binary arrays
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def replace_vendor_event(*, vendor_id: int, kind: str, subject: str, data: dict[str, Any]) -> None:
    """Record an event that corrects an earlier one of the same kind and subject (she changed
    the identity she told a vendor): the earlier event is replaced, and sent again."""
    VendorEvent.objects.filter(vendor_id=vendor_id, kind=kind, subject=subject).delete()
    record_vendor_events(kind=kind, subject=subject, data_by_vendor={vendor_id: data})


def scrub_events(*, subjects: Iterable[str]) -> int:
    """Replace the data of every event about these subjects (an erased customer's requests,
    bids and messages) by a tombstone that keeps only the subject's id, so a vendor's log still
    reads in order and identifies nobody. Returns how many events were scrubbed."""
    subjects = list(subjects)
    scrubbed = 0
    for start in range(0, len(subjects), 1000):
        for event in VendorEvent.objects.filter(subject__in=subjects[start : start + 1000]):
            event.payload = envelope(event.kind, event.created_at, {"id": event.subject, **ERASED})
            event.save(update_fields=["payload"])
            scrubbed += 1
    return scrubbed


def vendor_events(*, vendor_id: int) -> QuerySet[VendorEvent]:
    """Every event sent to the vendor, oldest first."""
    return VendorEvent.objects.filter(vendor_id=vendor_id).order_by("id")
