"""Ratings: one per side per completed deal, double-blind; the stored scores; and the guards
against gaming (docs/reputation.md).

Rating opens when a side says the deal was completed (a deal only agreed, or that neither side
says was completed, cannot be rated) and closes ``RATING_WINDOW`` after that. A rating stays
hidden until the other side has rated too, or until the window closes; then both are revealed
and the two parties' stored scores are recomputed. Nobody rates an account of its own party:
the vendor's own users, an account a moderator linked to the vendor, or a customer whose email
domain is the vendor's (public webmail domains aside). Whether a revealed rating counts is
decided when scores are computed (``reputation.scoring.counting``): repeat deals between the
same pair, suspended vendors, linked accounts and suspected rings do not count.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from broker.core.audit import record_audit
from broker.core.errors import Conflict
from reputation.models import (
    AccountLink,
    BehaviourSweep,
    CustomerScore,
    MarketPrior,
    Rating,
    RingFlag,
    VendorBehaviourStats,
    VendorScore,
)
from reputation.scoring import Params, Prior, RatingRow, counting, market_prior, same_party, score_of
from reputation.selectors import BEHAVIOUR_FIELDS, computed_vendor_behaviour
from vendors.deal import deal_completed_at, required_reason
from vendors.events import record_vendor_events
from vendors.models import Bid, Vendor, VendorEvent
from vendors.selectors import (
    all_vendor_ids,
    deal_vendor_ids,
    vendor_account_pairs,
    vendor_statuses,
    vendors_with_deliveries,
    vendors_with_young_deliveries,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RATING_WINDOW = timedelta(days=30)


class NotRateable(Conflict):
    """This deal cannot be rated: not accepted, not yet, no longer, or already rated by you."""

    code = "not_rateable"


def _clean(score: Any, comment: str) -> None:
    errors = {}
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        errors["score"] = "Give a whole number from 1 to 5."
    if len(comment or "") > 2000:
        errors["comment"] = "Keep the comment under 2000 characters."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def rate(*, bid: Bid, by: str, score: int, comment: str = "", now: datetime | None = None) -> Rating:
    """Record one side's rating of the other for an accepted bid."""
    now = now or timezone.now()
    _clean(score, comment)
    if bid.status != Bid.Status.ACCEPTED:
        raise NotRateable("Only an accepted bid can be rated.")
    opens = rating_opens_at(bid)
    if opens is None or now < opens:
        raise NotRateable("Ratings open once the deal is marked completed.")
    if now > opens + RATING_WINDOW:
        raise NotRateable("The rating window for this deal has closed.")
    if parties_linked(bid):
        raise NotRateable("The two sides of this deal are one party: nobody rates themselves.")
    try:
        with transaction.atomic():
            rating = Rating.objects.create(bid=bid, by=by, score=score, comment=comment or "")
    except IntegrityError:
        raise NotRateable("This side has already rated this deal.") from None
    if Rating.objects.filter(bid=bid).count() == 2:
        reveal(bid_id=bid.pk, now=now)
    return rating


def rating_opens_at(bid: Bid) -> datetime | None:
    """When the deal may be rated: when a side first said it was completed (None until then:
    only completed deals are rated, so a deal agreed and abandoned builds no reputation)."""
    if bid.decided_at is None:
        return None
    return deal_completed_at(bid)


def parties_linked(bid: Bid) -> bool:
    """Whether the deal's customer and vendor are one party (see the module's docstring)."""
    customer_id, customer_email, vendor_email = (
        Bid.objects.filter(pk=bid.pk)
        .values_list("intent__customer_id", "intent__customer__email", "vendor__contact_email")
        .get()
    )
    links = _links(vendor_ids=[bid.vendor_id])
    return same_party(
        customer_email=customer_email, vendor_email=vendor_email, linked=(customer_id, bid.vendor_id) in links
    )


def may_rate(bid: Bid, now: datetime | None = None) -> bool:
    opens = rating_opens_at(bid)
    now = now or timezone.now()
    return (
        bid.status == Bid.Status.ACCEPTED
        and opens is not None
        and opens <= now <= opens + RATING_WINDOW
        and not parties_linked(bid)
    )


def reveal(*, bid_id: UUID, now: datetime | None = None) -> None:
    """Reveal a deal's ratings and tell the vendor."""
    now = now or timezone.now()
    updated = Rating.objects.filter(bid_id=bid_id, revealed_at__isnull=True).update(revealed_at=now)
    if not updated:
        return
    bid = Bid.objects.get(pk=bid_id)
    ratings = {r.by: r for r in Rating.objects.filter(bid_id=bid_id)}
    data: dict[str, Any] = {"bid": str(bid.pk), "intent": str(bid.intent_id)}
    for side, key in ((Rating.Side.CUSTOMER, "customer_rating"), (Rating.Side.VENDOR, "vendor_rating")):
        rating = ratings.get(side)
        data[key] = (
            {"score": rating.score, "comment": rating.comment} if rating and not rating.hidden_by_moderator else None
        )
    record_vendor_events(
        kind=VendorEvent.Kind.RATING_REVEALED, subject=str(bid.pk), data_by_vendor={bid.vendor_id: data}
    )
    refresh_scores(vendor_ids=[bid.vendor_id], customer_ids=[bid.intent.customer_id], now=now)


def reveal_expired(*, now: datetime | None = None) -> int:
    """Reveal the ratings of deals whose rating window has closed with one side silent."""
    now = now or timezone.now()
    # A window opens at the agreement at the earliest, so only deals agreed a window ago qualify.
    candidates = Bid.objects.filter(
        pk__in=Rating.objects.filter(revealed_at__isnull=True).values("bid_id"),
        decided_at__lte=now - RATING_WINDOW,
    )
    closed = [
        bid.pk for bid in candidates if (opens := rating_opens_at(bid)) is not None and now > opens + RATING_WINDOW
    ]
    for bid_id in closed:
        with transaction.atomic():
            reveal(bid_id=bid_id, now=now)
    return len(closed)


def set_hidden(*, rating: Rating, hidden: bool, moderator: User, reason: str) -> Rating:
    """A moderator hides an abusive rating from reputation (or shows it again); the reason is
    required and kept in the audit log."""
    reason = required_reason(reason)
    rating.hidden_by_moderator = hidden
    rating.save(update_fields=["hidden_by_moderator"])
    record_audit(actor=moderator, action="rating.hidden" if hidden else "rating.shown", target=rating, reason=reason)
    refresh_scores(vendor_ids=[rating.bid.vendor_id], customer_ids=[rating.bid.intent.customer_id])
    return rating


# Stored scores -----------------------------------------------------------------------------

_ROW_FIELDS = (
    "id",
    "by",
    "score",
    "created_at",
    "revealed_at",
    "hidden_by_moderator",
    "review",
    "bid__vendor_id",
    "bid__vendor__status",
    "bid__vendor__contact_email",
    "bid__intent__customer_id",
    "bid__intent__customer__email",
)


def _links(*, vendor_ids: list[int] | None = None) -> set[tuple[int, int]]:
    """(user id, vendor id) pairs that are one party: a vendor's own users and admin links."""
    links = AccountLink.objects.all()
    if vendor_ids is not None:
        links = links.filter(vendor_id__in=vendor_ids)
    return vendor_account_pairs(vendor_ids=vendor_ids) | set(links.values_list("user_id", "vendor_id"))


def _rows(ratings: Any) -> list[RatingRow]:
    values = list(ratings.values(*_ROW_FIELDS))
    links = _links(vendor_ids=sorted({v["bid__vendor_id"] for v in values}))
    return [
        RatingRow(
            id=v["id"],
            side=v["by"],
            score=v["score"],
            created_at=v["created_at"],
            vendor_id=v["bid__vendor_id"],
            customer_id=v["bid__intent__customer_id"],
            revealed=v["revealed_at"] is not None,
            hidden=v["hidden_by_moderator"],
            review=v["review"],
            vendor_suspended=v["bid__vendor__status"] == Vendor.Status.SUSPENDED,
            linked=same_party(
                customer_email=v["bid__intent__customer__email"],
                vendor_email=v["bid__vendor__contact_email"],
                linked=(v["bid__intent__customer_id"], v["bid__vendor_id"]) in links,
            ),
        )
        for v in values
    ]


def stored_prior(side: str, params: Params) -> Prior:
    """The prior the last full recompute stored for ``side`` (the defaults before the first)."""
    row = MarketPrior.objects.filter(side=side).first()
    if row is None:
        return Prior(params.default_mean, params.default_variance, 0)
    return Prior(row.mean, row.variance, row.ratings)


def _save(side: str, scores: dict[int, Any], now: datetime) -> None:
    model: Any = VendorScore if side == Rating.Side.CUSTOMER else CustomerScore
    key = "vendor_id" if side == Rating.Side.CUSTOMER else "customer_id"
    rows = [
        model(
            **{key: party_id},
            ratings=score.ratings,
            weight=score.weight,
            score=score.score,
            rank_score=score.rank_score,
            computed_at=now,
        )
        for party_id, score in scores.items()
    ]
    model.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=[key.removesuffix("_id")],
        update_fields=["ratings", "weight", "score", "rank_score", "computed_at"],
    )


def _score_parties(
    side: str, rows: list[RatingRow], party_ids: set[int], prior: Prior, params: Params, now: datetime
) -> None:
    """Compute and store the score of each party in ``party_ids`` (the rated side of ``rows``)."""
    by_party: dict[int, list[RatingRow]] = {party_id: [] for party_id in party_ids}
    for row in counting(rows, params):
        party = row.vendor_id if side == Rating.Side.CUSTOMER else row.customer_id
        if party in by_party:
            by_party[party].append(row)
    _save(side, {party: score_of(kept, prior, params, now) for party, kept in by_party.items()}, now)


def refresh_scores(
    *, vendor_ids: Collection[int] = (), customer_ids: Collection[int] = (), now: datetime | None = None
) -> None:
    """Recompute the stored scores of these vendors and customers from all their ratings, with
    the stored market prior: the same numbers a full recompute with that prior gives."""
    now = now or timezone.now()
    params = Params.from_settings()
    if vendor_ids:
        rows = _rows(Rating.objects.filter(by=Rating.Side.CUSTOMER, bid__vendor_id__in=list(vendor_ids)))
        _score_parties(
            Rating.Side.CUSTOMER, rows, set(vendor_ids), stored_prior(Rating.Side.CUSTOMER, params), params, now
        )
    if customer_ids:
        rows = _rows(Rating.objects.filter(by=Rating.Side.VENDOR, bid__intent__customer_id__in=list(customer_ids)))
        _score_parties(
            Rating.Side.VENDOR, rows, set(customer_ids), stored_prior(Rating.Side.VENDOR, params), params, now
        )


def refresh_vendor_and_counterparties(*, vendor_id: int, now: datetime | None = None) -> None:
    """After a vendor's standing changed (suspended, reinstated, linked): its score and the
    scores of every customer it dealt with, whose ratings from it may count or not now."""
    customer_ids = set(
        Rating.objects.filter(bid__vendor_id=vendor_id).values_list("bid__intent__customer_id", flat=True)
    )
    refresh_scores(vendor_ids=[vendor_id], customer_ids=customer_ids, now=now)


@transaction.atomic
def recompute_all(*, now: datetime | None = None, refresh_prior: bool = True) -> dict[str, int]:
    """Recompute every stored score (beat, hourly): the market's prior from every counting
    rating first (unless ``refresh_prior`` is false), then each party's score decayed to now.
    Parties left without any rating lose their row. Returns how many scores were stored."""
    now = now or timezone.now()
    params = Params.from_settings()
    rows = _rows(Rating.objects.all())
    stored = {}
    models: tuple[tuple[str, Any], ...] = ((Rating.Side.CUSTOMER, VendorScore), (Rating.Side.VENDOR, CustomerScore))
    for side, model in models:
        side_rows = [r for r in rows if r.side == side]
        if refresh_prior:
            prior = market_prior([r.score for r in counting(side_rows, params)], params)
            MarketPrior.objects.update_or_create(
                side=side,
                defaults={"mean": prior.mean, "variance": prior.variance, "ratings": prior.ratings, "computed_at": now},
            )
        else:
            prior = stored_prior(side, params)
        parties = {r.vendor_id if side == Rating.Side.CUSTOMER else r.customer_id for r in side_rows}
        _score_parties(side, side_rows, parties, prior, params, now)
        model.objects.exclude(pk__in=parties).delete()
        stored[side] = len(parties)
    return {"vendors": stored[Rating.Side.CUSTOMER], "customers": stored[Rating.Side.VENDOR]}


# Behaviour figures -----------------------------------------------------------------------

BEHAVIOUR_BATCH = 500  # vendors recomputed in one transaction


def refresh_behaviour(*, vendor_ids: Collection[int], now: datetime | None = None) -> int:
    """Recompute and store these vendors' behaviour figures from their whole history
    (``computed_vendor_behaviour``); returns how many were stored. Each batch locks its vendors'
    rows, in id order, before it reads their facts: of two refreshes of one vendor at once, the
    second waits and then reads what the first could not see, so the row ends with the later
    facts."""
    now = now or timezone.now()
    ids = sorted(set(vendor_ids))
    stored = 0
    for start in range(0, len(ids), BEHAVIOUR_BATCH):
        with transaction.atomic():
            batch = list(vendor_statuses(vendor_ids=ids[start : start + BEHAVIOUR_BATCH]))  # not deleted
            VendorBehaviourStats.objects.bulk_create(
                [VendorBehaviourStats(vendor_id=vid, computed_at=now) for vid in batch], ignore_conflicts=True
            )
            locked = list(
                VendorBehaviourStats.objects.select_for_update()
                .filter(vendor_id__in=batch)
                .order_by("vendor_id")
                .values_list("vendor_id", flat=True)
            )
            figures = computed_vendor_behaviour(locked, now=now)
            VendorBehaviourStats.objects.bulk_update(
                [VendorBehaviourStats(vendor_id=vid, computed_at=now, **figures[vid]) for vid in locked],
                [*BEHAVIOUR_FIELDS, "computed_at"],
            )
            stored += len(locked)
    return stored


def refresh_intent_behaviour(*, intent_id: UUID | str, now: datetime | None = None) -> int:
    """After a request closed: its deliveries are due an answer from now on, however young. Only
    the vendors of the deliveries younger than ``ANSWER_GRACE_HOURS`` are recomputed (an older one
    was due already; one that crossed the boundary since the close is the sweep's, which runs after
    it), with the vendor of the accepted offer, whose deals a removal changes."""
    now = now or timezone.now()
    grace = timedelta(hours=settings.INTENTCAST["REPUTATION"]["ANSWER_GRACE_HOURS"])
    vendor_ids = vendors_with_young_deliveries(intent_id=intent_id, delivered_after=now - grace)
    return refresh_behaviour(vendor_ids=vendor_ids, now=now)


def sweep_behaviour(*, now: datetime | None = None) -> int:
    """Recompute the figures of the vendors whose deliveries became due an answer with time alone
    (``ANSWER_GRACE_HOURS`` old) since the last sweep; the first sweep, with no mark, computes every
    vendor (the figures of the history before they were stored). Returns how many vendors were
    recomputed."""
    now = now or timezone.now()
    grace = timedelta(hours=settings.INTENTCAST["REPUTATION"]["ANSWER_GRACE_HOURS"])
    with transaction.atomic():
        mark = BehaviourSweep.objects.select_for_update().first()  # one sweep at a time
        if mark is None:
            vendor_ids = all_vendor_ids()
        else:
            vendor_ids = vendors_with_deliveries(created_after=mark.swept_to - grace, created_until=now - grace)
        stored = refresh_behaviour(vendor_ids=vendor_ids, now=now)
        if mark is None:
            BehaviourSweep.objects.create(swept_to=now)
        else:
            mark.swept_to = now
            mark.save(update_fields=["swept_to"])
    return stored


# Gaming: links between accounts and rating rings --------------------------------------------


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason: it is kept in the audit log."})
    return reason


@transaction.atomic
def link_accounts(*, user: User, vendor: Vendor, reason: str, moderator: User | None) -> AccountLink:
    """A moderator says a customer account and a vendor are one party: they cannot rate each
    other from now on and ratings already given between them stop counting. Audited."""
    reason = _required_reason(reason)
    link, created = AccountLink.objects.update_or_create(
        user=user, vendor=vendor, defaults={"reason": reason, "created_by": moderator}
    )
    action = "account_link.created" if created else "account_link.changed"
    record_audit(actor=moderator, action=action, target=link, reason=reason)
    refresh_scores(vendor_ids=[vendor.pk], customer_ids=[user.pk])
    return link


@transaction.atomic
def unlink_accounts(*, link: AccountLink, moderator: User | None, reason: str) -> None:
    """A moderator takes a link back; the ratings between the two count again. Audited."""
    reason = _required_reason(reason)
    record_audit(actor=moderator, action="account_link.removed", target=link, reason=reason)
    vendor_id, user_id = link.vendor_id, link.user_id
    link.delete()
    refresh_scores(vendor_ids=[vendor_id], customer_ids=[user_id])


@transaction.atomic
def detect_rings(*, now: datetime | None = None) -> list[RingFlag]:
    """Hold suspected rating rings for a moderator (beat, hourly).

    A ring is at least ``RING_MIN_ACCOUNTS`` customers who, within the last ``RING_WINDOW_DAYS``,
    rated one vendor ``RING_MIN_SCORE`` or more while their account was younger than
    ``RING_NEW_ACCOUNT_DAYS`` and that vendor was the only one they ever agreed a deal with. Those
    customers' ratings of the vendor and the vendor's ratings of them go "in review" (they stop
    counting) under one open flag per vendor. Ratings a moderator already decided on are left
    alone. Returns the flags opened or extended."""
    now = now or timezone.now()
    conf = settings.INTENTCAST["REPUTATION"]
    since = now - timedelta(days=conf["RING_WINDOW_DAYS"])
    young = timedelta(days=conf["RING_NEW_ACCOUNT_DAYS"])
    candidates = list(
        Rating.objects.filter(
            by=Rating.Side.CUSTOMER, review="", score__gte=conf["RING_MIN_SCORE"], created_at__gte=since
        ).values(
            "bid_id", "created_at", "bid__vendor_id", "bid__intent__customer_id", "bid__intent__customer__date_joined"
        )
    )
    deals = deal_vendor_ids(customer_ids={c["bid__intent__customer_id"] for c in candidates})
    by_vendor: dict[int, dict[int, list[Any]]] = {}
    for c in candidates:
        customer_id, vendor_id = c["bid__intent__customer_id"], c["bid__vendor_id"]
        if c["created_at"] - c["bid__intent__customer__date_joined"] > young or deals.get(customer_id) != {vendor_id}:
            continue
        by_vendor.setdefault(vendor_id, {}).setdefault(customer_id, []).append(c["bid_id"])
    flags = []
    for vendor_id, customers in by_vendor.items():
        if len(customers) < conf["RING_MIN_ACCOUNTS"]:
            continue
        bid_ids = [bid_id for bids in customers.values() for bid_id in bids]
        summary = (
            f"{len(customers)} customer accounts, each under {conf['RING_NEW_ACCOUNT_DAYS']:g} days old and with "
            f"no deal with any other vendor, rated this vendor {conf['RING_MIN_SCORE']}+ within "
            f"{conf['RING_WINDOW_DAYS']:g} days ({len(bid_ids)} deals)."
        )
        flag = RingFlag.objects.filter(vendor_id=vendor_id, status=RingFlag.Status.OPEN).first()
        if flag is None:
            flag = RingFlag.objects.create(vendor_id=vendor_id, summary=summary)
        else:
            flag.summary = f"{flag.summary}\n{now:%Y-%m-%d %H:%M}: {summary}"
            flag.save(update_fields=["summary"])
        Rating.objects.filter(bid_id__in=bid_ids, review="").update(review=Rating.Review.IN_REVIEW, ring=flag)
        record_audit(actor=None, action="ring.flagged", target=flag, ratings=len(bid_ids), summary=summary)
        refresh_scores(vendor_ids=[vendor_id], customer_ids=set(customers), now=now)
        flags.append(flag)
    return flags


@transaction.atomic
def decide_ring(*, flag: RingFlag, confirm: bool, reason: str, moderator: User | None) -> RingFlag:
    """A moderator's decision on a suspected ring: clear (its ratings count again) or confirm
    (they never count). Needs a reason; audited; final."""
    reason = _required_reason(reason)
    flag = RingFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.status != RingFlag.Status.OPEN:
        raise Conflict("This ring has been decided already.")
    flag.status = RingFlag.Status.CONFIRMED if confirm else RingFlag.Status.CLEARED
    flag.decided_at, flag.decided_by, flag.decision_reason = timezone.now(), moderator, reason
    flag.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    ratings = Rating.objects.filter(ring=flag)
    parties = list(ratings.values_list("bid__vendor_id", "bid__intent__customer_id"))
    count = ratings.update(review=Rating.Review.CONFIRMED if confirm else Rating.Review.CLEARED)
    record_audit(
        actor=moderator,
        action="ring.confirmed" if confirm else "ring.cleared",
        target=flag,
        reason=reason,
        ratings=count,
    )
    refresh_scores(vendor_ids={v for v, _ in parties}, customer_ids={c for _, c in parties})
    return flag
