"""Reputation as each side sees it, read from the stored scores (``reputation.services``
computes them; ``docs/reputation.md`` explains the formula), and the behaviour figures that need
no rating: a vendor's stored (``computed_vendor_behaviour`` is how they are computed), a
customer's read live from her requests."""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict
from uuid import UUID

from django.conf import settings
from django.db import connections, router
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from intents.selectors import customer_request_outcomes
from reputation.models import CustomerScore, Rating, RingFlag, VendorBehaviourStats, VendorScore
from vendors.selectors import vendor_behaviour_facts

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from vendors.models import Bid


class Reputation(TypedDict):
    """``ratings``: how many ratings count; ``score``: the Bayesian average shown (None without
    a counting rating); ``rank_score``: the lower bound offers and vendors are ranked by."""

    ratings: int
    score: float | None
    rank_score: float | None


class VendorBehaviour(TypedDict):
    """What a vendor did, rated or not. Shares are None until there is something to count."""

    deliveries_due: int
    answered_share: float | None
    median_hours_to_offer: float | None
    deals_completed: int
    deals_fell_through: int
    deals_backed_out: int


class VendorCard(Reputation, VendorBehaviour):
    """A vendor's score and behaviour, as the customer sees them beside its offer."""


class CustomerReputation(TypedDict):
    """A customer's reputation as vendors see it: a band and a rough count of rated deals."""

    band: str
    rated_deals: str


class CustomerBehaviour(TypedDict):
    requests_closed: int
    decided_share: float | None
    deals_completed: int


def _reputation(score: VendorScore | CustomerScore | None) -> Reputation:
    if score is None:
        return _reputation_of(0, None, None)
    return _reputation_of(score.ratings, score.score, score.rank_score)


def _reputation_of(ratings: int | None, score: float | None, rank_score: float | None) -> Reputation:
    """A stored score's columns as each side reads them (none without ratings)."""
    if not ratings:
        return {"ratings": 0, "score": None, "rank_score": None}
    return {"ratings": ratings, "score": round(score, 2) if score is not None else None, "rank_score": rank_score}


def vendor_reputation(vendor_id: int) -> Reputation:
    """A vendor's stored score from customers' ratings."""
    return vendor_reputations([vendor_id])[vendor_id]


def vendor_reputations(vendor_ids: Collection[int]) -> dict[int, Reputation]:
    found = {s.vendor_id: s for s in VendorScore.objects.filter(vendor_id__in=list(vendor_ids))}
    return {vendor_id: _reputation(found.get(vendor_id)) for vendor_id in vendor_ids}


BEHAVIOUR_FIELDS = (
    "deliveries_due",
    "answered_share",
    "median_hours_to_offer",
    "deals_completed",
    "deals_fell_through",
    "deals_backed_out",
)
NO_BEHAVIOUR: VendorBehaviour = {
    "deliveries_due": 0,
    "answered_share": None,
    "median_hours_to_offer": None,
    "deals_completed": 0,
    "deals_fell_through": 0,
    "deals_backed_out": 0,
}


def computed_vendor_behaviour(
    vendor_ids: Collection[int], *, now: datetime | None = None
) -> dict[int, VendorBehaviour]:
    """Share of deliveries answered (an offer or a pass), median hours from delivery to first
    offer, agreed deals completed, fallen through, and those the vendor itself said fell through,
    computed from each vendor's whole history: what ``reputation.services.refresh_behaviour``
    stores, and what ``vendor_behaviour`` reads."""
    grace = timedelta(hours=settings.INTENTCAST["REPUTATION"]["ANSWER_GRACE_HOURS"])
    facts = vendor_behaviour_facts(vendor_ids=vendor_ids, due_before=(now or timezone.now()) - grace)
    return {
        vendor_id: {
            "deliveries_due": f["due"],
            "answered_share": round(f["answered"] / f["due"], 3) if f["due"] else None,
            "median_hours_to_offer": round(statistics.median(f["first_offer_hours"]), 1)
            if f["first_offer_hours"]
            else None,
            "deals_completed": f["completed"],
            "deals_fell_through": f["fell_through"],
            "deals_backed_out": f["backed_out"],
        }
        for vendor_id, f in facts.items()
    }


def vendor_behaviour(vendor_ids: Collection[int]) -> dict[int, VendorBehaviour]:
    """Each vendor's stored behaviour figures (``computed_vendor_behaviour``); a vendor without a
    row has done nothing that counts yet."""
    found = {
        row["vendor_id"]: row
        for row in VendorBehaviourStats.objects.filter(vendor_id__in=list(vendor_ids)).values(
            "vendor_id", *BEHAVIOUR_FIELDS
        )
    }
    return {vid: _behaviour(found.get(vid)) for vid in vendor_ids}


def _behaviour(row: dict[str, Any] | None) -> VendorBehaviour:
    if row is None:
        return dict(NO_BEHAVIOUR)  # type: ignore[return-value]  # a copy of the TypedDict
    return {name: row[name] for name in BEHAVIOUR_FIELDS}  # type: ignore[return-value]


def vendor_cards(vendor_ids: Collection[int]) -> dict[int, VendorCard]:
    """Score and behaviour of each vendor: what the customer sees beside its offers. One query,
    the behaviour rows with the score beside each; the scores of vendors without behaviour (none
    once the sweep has run, unless a vendor was rated with no delivery) in a second.

    The first is hand-written, plain SQL both backends run (numbers only): the ORM spent more
    time building it, on every view of her request page, than the database spends running it.
    ``vendor_cards_orm`` is the ORM's, which a test compares it with."""
    if not vendor_ids:
        return {}
    connection = connections[router.db_for_read(VendorBehaviourStats)]
    ids = list(vendor_ids)
    with connection.cursor() as cursor:
        cursor.execute(_cards_sql(len(ids)), ids)
        rows = [dict(zip(_CARD_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    return _cards(vendor_ids, rows)


_CARD_COLUMNS = ("vendor_id", *BEHAVIOUR_FIELDS, "score_ratings", "score_score", "score_rank")


def _cards_sql(count: int) -> str:
    behaviour, scores = VendorBehaviourStats._meta.db_table, VendorScore._meta.db_table
    return f"""
        SELECT b.vendor_id, {", ".join(f"b.{name}" for name in BEHAVIOUR_FIELDS)}, s.ratings, s.score, s.rank_score
        FROM {behaviour} b LEFT JOIN {scores} s ON s.vendor_id = b.vendor_id
        WHERE b.vendor_id IN ({", ".join(["%s"] * count)})
    """  # noqa: S608 (table and column names only)


def vendor_cards_orm(vendor_ids: Collection[int]) -> dict[int, VendorCard]:
    """``vendor_cards`` through the ORM (its score as subqueries of the behaviour row)."""
    scores = VendorScore.objects.filter(vendor_id=OuterRef("vendor_id"))
    rows = VendorBehaviourStats.objects.filter(vendor_id__in=list(vendor_ids)).values(
        "vendor_id",
        *BEHAVIOUR_FIELDS,
        score_ratings=Subquery(scores.values("ratings")[:1]),
        score_score=Subquery(scores.values("score")[:1]),
        score_rank=Subquery(scores.values("rank_score")[:1]),
    )
    return _cards(vendor_ids, rows)


def _cards(vendor_ids: Collection[int], rows: Iterable[dict[str, Any]]) -> dict[int, VendorCard]:
    cards: dict[int, VendorCard] = {}
    for row in rows:
        reputation = _reputation_of(row["score_ratings"], row["score_score"], row["score_rank"])
        cards[row["vendor_id"]] = VendorCard(**reputation, **_behaviour(row))
    missing = [vid for vid in vendor_ids if vid not in cards]
    if missing:
        for vid, reputation in vendor_reputations(missing).items():
            cards[vid] = VendorCard(**reputation, **NO_BEHAVIOUR)
    return {vid: cards[vid] for vid in vendor_ids}


def customer_reputation(customer_id: int) -> CustomerReputation:
    return customer_reputations([customer_id])[customer_id]


def customer_own_reputation(customer_id: int) -> dict[str, Any]:
    """Her reputation as she may see it (her export): the stored score, its ranking bound and
    the band vendors see."""
    summary = _reputation(CustomerScore.objects.filter(customer_id=customer_id).first())
    return {**summary, **_band(summary), **customer_behaviour([customer_id])[customer_id]}


def customer_reputations(customer_ids: Collection[int]) -> dict[int, CustomerReputation]:
    """Coarse on purpose: a band, not a score, so it cannot single a customer out across vendors."""
    found = {s.customer_id: s for s in CustomerScore.objects.filter(customer_id__in=list(customer_ids))}
    return {cid: _band(_reputation(found.get(cid))) for cid in customer_ids}


def customer_score_facts(customer_ref: str) -> dict[str, Subquery]:
    """Annotations with the stored score of the customer at ``customer_ref`` (``view_ratings``,
    ``view_score``), for ``customer_band``: her band read in the query that reads her requests."""
    scores = CustomerScore.objects.filter(customer_id=OuterRef(customer_ref))
    return {
        "view_ratings": Subquery(scores.values("ratings")[:1]),
        "view_score": Subquery(scores.values("score")[:1]),
    }


def customer_band(ratings: int | None, score: float | None) -> CustomerReputation:
    """The band ``customer_reputations`` gives, from ``customer_score_facts``' annotations."""
    if not ratings:
        return _band({"ratings": 0, "score": None, "rank_score": None})
    return _band({"ratings": ratings, "score": round(score, 2) if score is not None else None, "rank_score": None})


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


def customer_behaviour(customer_ids: Collection[int]) -> dict[int, CustomerBehaviour]:
    """Share of her closed requests she decided (accepted an offer or closed herself) rather
    than left to expire, and her completed deals. For moderators and for herself; vendors see
    only the band."""
    outcomes = customer_request_outcomes(customer_ids=customer_ids)
    result: dict[int, CustomerBehaviour] = {}
    for cid in customer_ids:
        o = outcomes.get(cid, {"closed": 0, "decided": 0, "completed": 0})
        result[cid] = {
            "requests_closed": o["closed"],
            "decided_share": round(o["decided"] / o["closed"], 3) if o["closed"] else None,
            "deals_completed": o["completed"],
        }
    return result


def open_ring_count() -> int:
    return RingFlag.objects.filter(status=RingFlag.Status.OPEN).count()


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
