"""Reads on the vendor side: the inbox, one delivered intent, bids, threads, and the candidate
subscriptions the matcher checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db.models import Count, Min, Q, QuerySet, TextField
from django.db.models.functions import Cast

from broker.core.errors import NotFound
from intents.models import Category, Intent
from vendors.models import (
    AgreementAnswer,
    AgreementRecord,
    Bid,
    BidCounter,
    DealOutcome,
    Delivery,
    Message,
    Subscription,
    SubscriptionKey,
    Vendor,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The inbox ---------------------------------------------------------------------------------


def vendor_inbox(
    *, vendor: Vendor, status: str | None = None, category: Category | None = None, since: datetime | None = None
) -> QuerySet[Delivery]:
    """The vendor's deliveries, newest first, with their intents."""
    deliveries = Delivery.objects.filter(vendor=vendor).select_related(
        "intent__category", "intent__region", "intent__agreement"
    )
    if status:
        deliveries = deliveries.filter(intent__status=status)
    if category is not None:
        # The category and its descendants: treebeard's paths under the category's own.
        deliveries = deliveries.filter(intent__category__path__startswith=category.path)
    if since is not None:
        deliveries = deliveries.filter(created_at__gte=since)
    return deliveries.order_by("-id")


def delivered_intent(*, vendor: Vendor, intent_id: UUID | str) -> Intent:
    """An intent delivered to ``vendor``; ``NotFound`` for any other, so an intent's existence
    leaks to nobody it was not cast to."""
    delivery = (
        Delivery.objects.filter(vendor=vendor, intent_id=intent_id)
        .select_related("intent__category", "intent__region", "intent__agreement")
        .first()
    )
    if delivery is None:
        raise NotFound("No such request in your inbox.")
    return delivery.intent


def is_delivered(*, intent_id: UUID | str, vendor_id: int, current: bool = False) -> bool:
    """Whether the intent reached the vendor (``current``: and is still in its inbox, not
    withdrawn after she amended it)."""
    deliveries = Delivery.objects.filter(intent_id=intent_id, vendor_id=vendor_id)
    if current:
        deliveries = deliveries.filter(withdrawn_at__isnull=True)
    return deliveries.exists()


def delivered_vendor_ids(*, intent_id: UUID | str, current: bool = True) -> list[int]:
    """Every vendor the intent reached (``current``: whose inbox still holds it)."""
    deliveries = Delivery.objects.filter(intent_id=intent_id)
    if current:
        deliveries = deliveries.filter(withdrawn_at__isnull=True)
    return list(deliveries.values_list("vendor_id", flat=True))


def pass_reasons(*, intent_id: UUID) -> dict[str, int]:
    """How many vendors passed on the request, by reason ("" for none given)."""
    rows = (
        Delivery.objects.filter(intent_id=intent_id, passed_at__isnull=False)
        .values("pass_reason")
        .annotate(n=Count("id"))
    )
    return {row["pass_reason"]: row["n"] for row in rows}


def market(*, intent_ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
    """For open-format requests: how many active offers each has and the best (lowest) price,
    by intent id (offers in another currency than the lowest's are counted, not compared)."""
    found: dict[UUID, dict[str, Any]] = {}
    rows = (
        Bid.objects.filter(intent_id__in=list(intent_ids), status=Bid.Status.ACTIVE)
        .values("intent_id", "currency")
        .annotate(n=Count("id"), best=Min("amount"))
    )
    for row in rows:
        entry = found.setdefault(row["intent_id"], {"offers": 0, "best": None})
        entry["offers"] += row["n"]
        if entry["best"] is None or row["best"] < entry["best"][0]:
            entry["best"] = (row["best"], row["currency"])
    return found


def deliveries_today(subscription_ids: Sequence[UUID], *, since: datetime, excluding_intent: UUID) -> dict[UUID, int]:
    """How many intents (other than ``excluding_intent``) each subscription delivered since
    ``since``: what its daily cap is counted against."""
    if not subscription_ids:
        return {}
    rows = (
        Delivery.objects.filter(subscription_id__in=subscription_ids, created_at__gte=since)
        .exclude(intent_id=excluding_intent)
        .values("subscription_id")
        .annotate(n=Count("id"))
    )
    return {row["subscription_id"]: row["n"] for row in rows}


# Matching ----------------------------------------------------------------------------------

# The columns of a candidate, in the order ``candidate_subscriptions`` gives them.
CANDIDATE_FIELDS = (
    "id",
    "vendor_id",
    "keywords",
    "language",
    "attribute_filters",
    "min_budget",
    "min_budget_currency",
    "daily_cap",
)


def candidate_subscriptions(
    *,
    category_ids: Sequence[int],
    stems: Iterable[str],
    region_lft: int,
    region_rgt: int,
    region_ancestor_lfts: Sequence[int],
) -> QuerySet[Subscription, tuple[Any, ...]]:
    """Active subscriptions of approved vendors listed in the index (``SubscriptionKey``) under
    the intent's keys, as rows of ``CANDIDATE_FIELDS`` with the JSON columns as text: most are
    empty, and a popular intent has thousands of candidates, for which the JSON decoder would be
    the slowest part. See ``broker.pipeline.matching``."""
    region_overlap = Q(region_lft__gte=region_lft, region_lft__lte=region_rgt)
    if region_ancestor_lfts:
        region_overlap |= Q(region_lft__in=region_ancestor_lfts)
    listed = SubscriptionKey.objects.filter(region_overlap, category_id__in=category_ids, stem__in=[*stems, ""]).values(
        "subscription_id"
    )
    return (
        Subscription.objects.filter(pk__in=listed, active=True, vendor__status=Vendor.Status.APPROVED)
        .order_by("vendor_id", "created_at", "id")
        .annotate(keywords_text=Cast("keywords", TextField()), filters_text=Cast("attribute_filters", TextField()))
        .values_list(
            "id",
            "vendor_id",
            "keywords_text",
            "language",
            "filters_text",
            "min_budget",
            "min_budget_currency",
            "daily_cap",
        )
    )


# Bids --------------------------------------------------------------------------------------


def vendor_bids(*, vendor: Vendor) -> QuerySet[Bid]:
    return Bid.objects.filter(vendor=vendor).prefetch_related("photos")


def vendor_bid(*, vendor: Vendor, bid_id: UUID | str) -> Bid:
    bid = Bid.objects.filter(vendor=vendor, pk=bid_id).first()
    if bid is None:
        raise NotFound("No such bid.")
    return bid


def latest_bids(*, vendor_ids: Iterable[int], intent_ids: Iterable[UUID]) -> dict[tuple[int, UUID], Bid]:
    """Each vendor's latest bid on each of these intents, by (vendor id, intent id)."""
    latest: dict[tuple[int, UUID], Bid] = {}
    bids = (
        Bid.objects.filter(vendor_id__in=set(vendor_ids), intent_id__in=set(intent_ids))
        .prefetch_related("photos")
        .order_by("created_at")
    )
    for bid in bids:
        latest[(bid.vendor_id, bid.intent_id)] = bid  # the latest wins
    return latest


def open_counter(*, bid: Bid) -> BidCounter | None:
    """Her open request for a better offer on this bid, if any."""
    return BidCounter.objects.filter(bid=bid, status=BidCounter.Status.OPEN).select_related("bid").first()


def latest_bids_on(*, intent_id: UUID) -> dict[int, Bid]:
    """Each vendor's latest bid on one intent, by vendor id."""
    bids = Bid.objects.filter(intent_id=intent_id).prefetch_related("photos").order_by("created_at")
    return {bid.vendor_id: bid for bid in bids}


def accepted_bid(*, intent: Intent) -> Bid | None:
    """The offer she accepted on this request, if any."""
    return Bid.objects.filter(intent=intent, status=Bid.Status.ACCEPTED).select_related("vendor").first()


def outcome_of(*, bid: Bid, side: str) -> DealOutcome | None:
    """One side's word on how the deal ended, if given."""
    return DealOutcome.objects.filter(bid=bid, side=side).first()


def reach(*, intent_id: UUID) -> dict[str, int]:
    """How far her request got: the vendors it reached, opened it, passed on it."""
    deliveries = Delivery.objects.filter(intent_id=intent_id, withdrawn_at__isnull=True)
    return deliveries.aggregate(
        reached=Count("id"),
        opened=Count("id", filter=Q(seen_at__isnull=False)),
        passed=Count("id", filter=Q(passed_at__isnull=False)),
    )


def intent_bids(*, intent: Intent) -> list[Bid]:
    """The bids a customer sees on her request (not the withdrawn ones), with their vendors."""
    bids = (
        Bid.objects.filter(intent=intent).select_related("vendor").prefetch_related("photos", "revisions", "counters")
    )
    return list(bids.exclude(status=Bid.Status.WITHDRAWN))


def intent_bid(*, intent: Intent, bid_id: UUID | str) -> Bid:
    bids = Bid.objects.filter(intent=intent, pk=bid_id).select_related("vendor", "intent__category", "intent__region")
    bid = bids.first()
    if bid is None:
        raise NotFound("No such bid.")
    return bid


def bid_from_vendor(*, intent: Intent, vendor_id: int) -> Bid:
    """A vendor's latest bid on the customer's request; ``NotFound`` if it never bid."""
    bid = (
        Bid.objects.filter(intent=intent, vendor_id=vendor_id).select_related("vendor").order_by("-created_at").first()
    )
    if bid is None:
        raise NotFound("No such vendor on this request.")
    return bid


def active_bid_counts(*, intent_ids: Iterable[UUID]) -> dict[UUID, int]:
    rows = (
        Bid.objects.filter(intent_id__in=list(intent_ids), status=Bid.Status.ACTIVE)
        .values("intent_id")
        .annotate(n=Count("id"))
    )
    return {row["intent_id"]: row["n"] for row in rows}


def bids_received(*, customer: User) -> QuerySet[Bid]:
    """Every bid on the customer's requests, oldest first, with its vendor."""
    return Bid.objects.filter(intent__customer=customer).select_related("vendor").order_by("created_at")


# Threads -----------------------------------------------------------------------------------


def thread(*, intent: Intent, vendor: Vendor) -> QuerySet[Message]:
    """The messages between the intent's customer and the vendor about it, oldest first."""
    return Message.objects.filter(intent=intent, vendor=vendor).order_by("created_at", "id")


def customer_messages(*, customer: User) -> QuerySet[Message]:
    """Every message of the customer's threads, oldest first, with its vendor."""
    return Message.objects.filter(intent__customer=customer).select_related("vendor").order_by("created_at")


# Her terms, answered ----------------------------------------------------------------------


def vendor_agreement_records(*, vendor: Vendor) -> QuerySet[AgreementRecord]:
    """The agreements this vendor reached, newest first: its own, never another vendor's."""
    return AgreementRecord.objects.filter(vendor=vendor).select_related("agreement").order_by("-id")


def vendor_answer(*, vendor: Vendor, intent: Intent) -> tuple[AgreementAnswer | None, AgreementRecord | None]:
    """The vendor's answer to her terms on this request, and the agreement reached, if any."""
    answer = AgreementAnswer.objects.select_related("proposed").filter(intent=intent, vendor=vendor).first()
    record = AgreementRecord.objects.select_related("agreement").filter(intent=intent, vendor=vendor).first()
    return answer, record


def intent_agreement_answers(*, intent: Intent) -> list[AgreementAnswer]:
    """Every vendor's answer to her terms on one of her requests, oldest first."""
    return list(
        AgreementAnswer.objects.filter(intent=intent).select_related("vendor", "proposed").order_by("answered_at")
    )


def intent_agreement_records(*, intent: Intent) -> dict[int, AgreementRecord]:
    """The agreements reached on one of her requests, by vendor id."""
    records = AgreementRecord.objects.filter(intent=intent).select_related("agreement")
    return {record.vendor_id: record for record in records}


def customer_agreement_records(*, customer: User) -> QuerySet[AgreementRecord]:
    """Every agreement she reached with a vendor, oldest first (her export)."""
    return (
        AgreementRecord.objects.filter(intent__customer=customer)
        .select_related("agreement", "vendor")
        .order_by("reached_at", "id")
    )


def agreement_answer_ids(*, customer: User) -> list[str]:
    """The ids of the answers to her requests' terms: the subjects of their events."""
    return [str(pk) for pk in AgreementAnswer.objects.filter(intent__customer=customer).values_list("pk", flat=True)]


def proposal_from(*, intent: Intent, vendor_id: int) -> AgreementAnswer | None:
    """The alternative agreement a vendor proposed on one of her requests, if it did."""
    return (
        AgreementAnswer.objects.select_related("vendor", "proposed")
        .filter(intent=intent, vendor_id=vendor_id, proposed__isnull=False)
        .first()
    )
