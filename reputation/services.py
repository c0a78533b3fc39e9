"""Ratings: one per side per agreed deal, double-blind.

Rating opens when a side says the deal was completed, or ``RATING_OPENS_AFTER`` after it was
agreed (so a silent side cannot block it), and closes ``RATING_WINDOW`` after it opened. A
rating stays hidden until the other side has rated too, or until the window closes; then both
are revealed and count towards reputation. Only agreed deals can be rated, so reputation is
earned from real deals only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from broker.core.audit import record_audit
from broker.core.errors import Conflict
from reputation.models import Rating
from vendors.deal import deal_completed_at
from vendors.events import record_vendor_events
from vendors.models import Bid, VendorEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RATING_WINDOW = timedelta(days=30)
RATING_OPENS_AFTER = timedelta(days=7)


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
    if opens is not None and now < opens:
        raise NotRateable("Ratings open once the deal is marked completed, or a week after it was agreed.")
    if opens is not None and now > opens + RATING_WINDOW:
        raise NotRateable("The rating window for this deal has closed.")
    try:
        with transaction.atomic():
            rating = Rating.objects.create(bid=bid, by=by, score=score, comment=comment or "")
    except IntegrityError:
        raise NotRateable("This side has already rated this deal.") from None
    if Rating.objects.filter(bid=bid).count() == 2:
        reveal(bid_id=bid.pk, now=now)
    return rating


def rating_opens_at(bid: Bid) -> datetime | None:
    """When the deal may be rated: when a side first said it was completed, or a week after it
    was agreed, whichever comes first (None for a deal that was never agreed)."""
    if bid.decided_at is None:
        return None
    completed = deal_completed_at(bid)
    fallback = bid.decided_at + RATING_OPENS_AFTER
    return min(completed, fallback) if completed is not None else fallback


def may_rate(bid: Bid, now: datetime | None = None) -> bool:
    opens = rating_opens_at(bid)
    now = now or timezone.now()
    return bid.status == Bid.Status.ACCEPTED and opens is not None and opens <= now <= opens + RATING_WINDOW


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


def set_hidden(*, rating: Rating, hidden: bool, moderator: User) -> Rating:
    """A moderator hides an abusive rating from reputation (or shows it again); audited."""
    rating.hidden_by_moderator = hidden
    rating.save(update_fields=["hidden_by_moderator"])
    record_audit(actor=moderator, action="rating.hidden" if hidden else "rating.shown", target=rating)
    return rating
