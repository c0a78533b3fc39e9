"""Reads of the pipeline's tables for the other apps."""

from __future__ import annotations

from django.db.models import QuerySet

from broker.models import Delivery, VendorEvent


def is_delivered(*, intent_id, vendor_id: int) -> bool:
    return Delivery.objects.filter(intent_id=intent_id, vendor_id=vendor_id).exists()


def delivered_vendor_ids(*, intent_id) -> list[int]:
    return list(Delivery.objects.filter(intent_id=intent_id).values_list("vendor_id", flat=True))


def vendor_events(*, vendor_id: int) -> QuerySet[VendorEvent]:
    return VendorEvent.objects.filter(vendor_id=vendor_id).order_by("id")
