"""Reads of reports, for the customer's page, the vendor API and admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from broker.core.errors import NotFound
from intents.models import Intent
from moderation.models import Report
from reputation.models import RingFlag
from vendors.models import Bid, Delivery, Message, Vendor

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


DEALT = (Intent.Status.ACCEPTED, Intent.Status.COMPLETED, Intent.Status.FELL_THROUGH)
LIVE_REPORTS = (Report.Status.OPEN, Report.Status.IN_REVIEW, Report.Status.ESCALATED)


@dataclass(frozen=True)
class DayFigures:
    day: date
    requests: int
    deliveries: int
    offers: int
    deals: int


def _per_day(queryset: QuerySet[Any], field: str, since: datetime) -> dict[date, int]:
    rows = (
        queryset.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    return dict(rows)


def market_overview(*, days: int = 14, now: datetime | None = None) -> dict[str, Any]:
    """The moderators' overview (admin): requests, deliveries, offers and deals per day over the
    last ``days`` days, the share of those requests that ended in a deal, the live reports by
    age against their expected response time, the held requests and the rings waiting."""
    now = now or timezone.now()
    since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    requests = _per_day(Intent.objects.all(), "created_at", since)
    deliveries = _per_day(Delivery.objects.all(), "created_at", since)
    offers = _per_day(Bid.objects.all(), "created_at", since)
    deals = _per_day(Bid.objects.filter(status=Bid.Status.ACCEPTED), "decided_at", since)
    first = since.date()
    table = [
        DayFigures(
            day=day,
            requests=requests.get(day, 0),
            deliveries=deliveries.get(day, 0),
            offers=offers.get(day, 0),
            deals=deals.get(day, 0),
        )
        for day in (first + timedelta(days=i) for i in range(days))
    ]
    recent = Intent.objects.filter(created_at__gte=since)
    decided = recent.exclude(status__in=(Intent.Status.OPEN, Intent.Status.IN_REVIEW)).count()
    dealt = recent.filter(status__in=DEALT).count()
    live = list(Report.objects.filter(status__in=LIVE_REPORTS).select_related("vendor").order_by("due_at"))
    reports = [
        {
            "report": report,
            "age_hours": round((now - report.created_at).total_seconds() / 3600, 1),
            "allowed_hours": round((report.due_at - report.created_at).total_seconds() / 3600, 1),
            "overdue": report.due_at < now,
        }
        for report in live
    ]
    held = Intent.objects.filter(status=Intent.Status.IN_REVIEW).order_by("created_at")
    return {
        "days": table,
        "since": since,
        "acceptance": {"decided": decided, "dealt": dealt, "rate": dealt / decided if decided else None},
        "reports": reports,
        "overdue": sum(1 for r in reports if r["overdue"]),
        "held": list(held[:50]),
        "held_count": held.count(),
        "rings": RingFlag.objects.filter(status=RingFlag.Status.OPEN).count(),
    }
