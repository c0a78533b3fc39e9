"""The vendors' event log: every event sent to a vendor, once per (vendor, kind, subject), in
order. It is the body of the webhooks (scheduled in the same transaction, sent after commit) and
of ``GET /api/v1/events/``, where a vendor catches up on anything it missed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from broker.core.bulk import insert_ignoring_conflicts
from vendors.models import VendorEvent
from vendors.payloads import envelope, envelope_json
from vendors.webhooks import schedule_webhooks

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
    insert_ignoring_conflicts(
        VendorEvent,
        ("vendor", "kind", "subject", "payload", "created_at"),
        [
            (vendor_id, kind, subject, envelope_json(kind, now, data), now)
            for vendor_id, data in data_json_by_vendor.items()
        ],
    )
    schedule_webhooks(kind=kind, subject=subject, vendor_ids=list(data_json_by_vendor))


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
