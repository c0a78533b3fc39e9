"""The vendors' event log is written 50 rows per request: it keeps the indexes its readers need and
no more (each one is an entry written per event)."""

from __future__ import annotations

import pytest
from django.db import connection

from vendors.events import vendor_events
from vendors.models import VendorEvent

pytestmark = pytest.mark.django_db


def test_the_event_log_has_the_feeds_index_and_no_other_by_vendor(vendor):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, VendorEvent._meta.db_table)
    indexed = sorted(tuple(c["columns"]) for c in constraints.values() if c["index"] or c["unique"] or c["primary_key"])
    # A vendor's feed (``vendor_events``, in id order from a position) reads by (vendor, id); the
    # unique index keeps an event once; nothing indexes the vendor alone.
    assert indexed == [("id",), ("vendor_id", "id"), ("vendor_id", "kind", "subject")]
    VendorEvent.objects.create(vendor=vendor, kind="intent.matched", subject="s", payload={})
    assert [e.subject for e in vendor_events(vendor_id=vendor.pk)] == ["s"]
