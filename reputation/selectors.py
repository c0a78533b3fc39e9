"""Reputation as the other side sees it. Only revealed ratings that a moderator has not hidden
count, and ratings exist only for accepted bids, so reputation is earned from real deals."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, TypedDict
from uuid import UUID

from django.db.models import Avg, Count, Q, QuerySet

from reputation.models import Rating

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from vendors.models import Bid

VISIBLE = Q(revealed_at__isnull=False, hidden_by_moderator=False)


class Reputation(TypedDict):
    """How many visible ratings, and their mean (None without any)."""

    ratings: int
    score: float | None


class CustomerReputation(TypedDict):
    """A customer's reputation as vendors see it: a band and a rough count of rated deals."""

    band: str
    rated_deals: str


def _summary(ratings: QuerySet[Rating]) -> Reputation:
    row = ratings.aggregate(n=Count("id"), avg=Avg("score"))
    return {"ratings": row["n"], "score": round(row["avg"], 2) if row["avg"] is not None else None}


def vendor_reputation(vendor_id: int) -> Reputation:
    """``{"ratings": n, "score": mean or None}`` from customers' ratings of this vendor."""
    return _summary(Rating.objects.filter(VISIBLE, by=Rating.Side.CUSTOMER, bid__vendor_id=vendor_id))


def vendor_reputations(vendor_ids: Collection[int]) -> dict[int, Reputation]:
    rows = (
        Rating.objects.filter(VISIBLE, by=Rating.Side.CUSTOMER, bid__vendor_id__in=list(vendor_ids))
        .values("bid__vendor_id")
        .annotate(n=Count("id"), avg=Avg("score"))
    )
    found: dict[int, Reputation] = {r["bid__vendor_id"]: {"ratings": r["n"], "score": round(r["avg"], 2)} for r in rows}
    return {vendor_id: found.get(vendor_id, {"ratings": 0, "score": None}) for vendor_id in vendor_ids}


def customer_reputation(customer_id: int) -> CustomerReputation:
    return customer_reputations([customer_id])[customer_id]


def customer_reputations(customer_ids: Collection[int]) -> dict[int, CustomerReputation]:
    """Coarse on purpose: a band, not a mean, so it cannot single a customer out across vendors."""
    rows = (
        Rating.objects.filter(VISIBLE, by=Rating.Side.VENDOR, bid__intent__customer_id__in=list(customer_ids))
        .values("bid__intent__customer_id")
        .annotate(n=Count("id"), avg=Avg("score"))
    )
    found: dict[int, Reputation] = {r["bid__intent__customer_id"]: {"ratings": r["n"], "score": r["avg"]} for r in rows}
    return {cid: _band(found.get(cid, {"ratings": 0, "score": None})) for cid in customer_ids}


def _band(summary: Reputation) -> CustomerReputation:
    score = summary["score"]
    if summary["ratings"] < 3 or score is None:
        band = "new"
    elif score >= 4.5:
        band = "excellent"
    elif score >= 3.5:
        band = "good"
    else:
        band = "mixed"
    deals = "0" if summary["ratings"] == 0 else "1-4" if summary["ratings"] < 5 else "5+"
    return {"band": band, "rated_deals": deals}


def customer_deal_ratings(*, customer: User) -> QuerySet[Rating]:
    """Every rating of the customer's deals (hers and the vendors'), with the deal's vendor."""
    return Rating.objects.filter(bid__intent__customer=customer).select_related("bid__vendor")


def customer_rating_of(*, bid: Bid) -> Rating | None:
    """The customer's own rating of a deal, if she gave one."""
    return Rating.objects.filter(bid=bid, by=Rating.Side.CUSTOMER).first()


def ratings_she_gave(*, customer: User, vendor_id: int) -> dict[UUID, Rating]:
    """Her ratings of her deals with one vendor, by bid id."""
    ratings = Rating.objects.filter(by=Rating.Side.CUSTOMER, bid__intent__customer=customer, bid__vendor_id=vendor_id)
    return {rating.bid_id: rating for rating in ratings}
