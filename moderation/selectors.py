"""Reads of reports, for the customer's page, the vendor API and admin."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import QuerySet

from broker.core.errors import NotFound
from moderation.models import Report
from vendors.models import Bid, Message, Vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def customer_reports(*, customer: User) -> QuerySet[Report]:
    """Her reports and the reports about her, newest first."""
    return Report.objects.filter(customer=customer).select_related("vendor", "intent", "bid", "message")


def vendor_reports(*, vendor: Vendor) -> QuerySet[Report]:
    """The vendor's reports and the reports about it, newest first (the API pages them by id)."""
    return Report.objects.filter(vendor=vendor)


def vendor_report(*, vendor: Vendor, report_id: UUID | str) -> Report:
    report = Report.objects.filter(vendor=vendor, pk=report_id).first()
    if report is None:
        raise NotFound("No such report.")
    return report


def customer_bid_or_none(*, customer: User, bid_id: UUID | str) -> Bid | None:
    """An offer on one of her requests (what she may report), or None."""
    try:
        UUID(str(bid_id))
    except ValueError:
        return None
    return Bid.objects.select_related("vendor", "intent").filter(pk=bid_id, intent__customer=customer).first()


def vendor_message_or_none(*, customer: User, message_id: int) -> Message | None:
    """A vendor's message to her (what she may report), or None."""
    return (
        Message.objects.select_related("vendor", "intent")
        .filter(pk=message_id, intent__customer=customer, sender=Message.Sender.VENDOR)
        .first()
    )
