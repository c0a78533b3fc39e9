"""The deal: one state machine for a request and the offers (bids) on it.

Every change of a request's or a bid's status after it was made goes through a transition here,
named in the tables below; a transition the tables do not allow raises the domain's
``IntentClosed`` or ``BidNotActive``. Each transition is a service that takes the row locks,
writes the statuses (the request's through its owner, ``intents.services.close_intent``) and
records what the vendors are told:

====================  ==========================  ===============================  ===================
transition            request                     bids                             vendors are told
====================  ==========================  ===============================  ===================
accept an offer       open → accepted             that one → accepted, every       ``bid.accepted``;
                      ("deal agreed")             other active → declined          ``bid.declined``
decline an offer      stays open                  active → declined (her reason)   ``bid.declined``
counter an offer      stays open                  stays active; one open counter   ``bid.countered``
withdraw an offer     stays open                  active → withdrawn               (the vendor did it)
expire an offer       stays open                  active → expired                 (its ``valid_until``)
withdraw request      open → withdrawn (reason)   every active → declined          ``bid.declined``,
expire request        open → expired              every active → declined          then
remove request        any → removed               every active → withdrawn by      ``intent.withdrawn``
                                                  moderation                       with the reason
release request       in review → open            (none yet)                       ``intent.matched``
                      (a moderator, held by a                                      as when published
                      review rule)
suspend a vendor      stays open                  its active → withdrawn by        (the vendor is
                                                  moderation                       suspended)
mark the deal         accepted → completed or     (the accepted bid records each   ``deal.updated``
                      fell through                side's word)
====================  ==========================  ===============================  ===================

``intent.withdrawn`` is written by the pipeline from the outbox event ``intent.closed``, because it
carries each vendor's full view of the request (``broker.pipeline.vendor_view``). An offer past
its ``valid_until`` cannot be accepted even before beat's sweep marks it expired, and a sealed
request's offers cannot be accepted (nor seen) before its deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from broker.core.audit import record_audit
from broker.core.errors import BidNotActive, Conflict, IntentClosed, NotFound
from broker.core.outbox import record_event
from intents.attributes import clean_offer_attributes
from intents.models import Intent
from intents.notifications import (
    counter_answered,
    deal_agreed,
    deal_outcome,
    offers_withdrawn_by_moderation,
    request_expired,
    request_released,
    request_removed,
)
from intents.selectors import lock_intent, open_intents_past_expiry
from intents.services import close_intent
from intents.services import release_intent as open_released_intent
from intents.taxonomy import category_schema
from vendors.events import record_vendor_events
from vendors.models import Bid, BidCounter, DealOutcome, Vendor, VendorEvent
from vendors.payloads import bid_for_vendor, counter_for_vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

IntentStatus = Intent.Status
BidStatus = Bid.Status

# transition: (the statuses it may start from, the status it ends in)
INTENT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({IntentStatus.OPEN}), IntentStatus.ACCEPTED),
    "withdraw": (frozenset({IntentStatus.OPEN, IntentStatus.IN_REVIEW}), IntentStatus.WITHDRAWN),
    "expire": (frozenset({IntentStatus.OPEN, IntentStatus.IN_REVIEW}), IntentStatus.EXPIRED),
    "remove": (frozenset(IntentStatus.values) - {IntentStatus.REMOVED}, IntentStatus.REMOVED),
    "release": (frozenset({IntentStatus.IN_REVIEW}), IntentStatus.OPEN),
    "complete": (frozenset({IntentStatus.ACCEPTED}), IntentStatus.COMPLETED),
    "fall_through": (frozenset({IntentStatus.ACCEPTED}), IntentStatus.FELL_THROUGH),
}
BID_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({BidStatus.ACTIVE}), BidStatus.ACCEPTED),
    "decline": (frozenset({BidStatus.ACTIVE}), BidStatus.DECLINED),
    "withdraw": (frozenset({BidStatus.ACTIVE}), BidStatus.WITHDRAWN),
    "expire": (frozenset({BidStatus.ACTIVE}), BidStatus.EXPIRED),
    "moderate": (frozenset({BidStatus.ACTIVE}), BidStatus.WITHDRAWN_BY_MODERATION),
}
# What the vendor is told when its bid takes a transition someone else made.
BID_EVENTS = {"accept": VendorEvent.Kind.BID_ACCEPTED, "decline": VendorEvent.Kind.BID_DECLINED}
# The reasons she may give; the others are the broker's.
CUSTOMER_DECLINE_REASONS = frozenset(
    {
        Bid.DeclineReason.PRICE,
        Bid.DeclineReason.SPECIFICATION,
        Bid.DeclineReason.TIMING,
        Bid.DeclineReason.VENDOR,
        Bid.DeclineReason.OTHER,
    }
)
CUSTOMER_CLOSE_REASONS = frozenset(
    {Intent.CloseReason.WITHDRAWN, Intent.CloseReason.BOUGHT_ELSEWHERE, Intent.CloseReason.NO_LONGER_NEEDED}
)
OUTCOME_TRANSITIONS: dict[str, str] = {
    DealOutcome.Outcome.COMPLETED: "complete",
    DealOutcome.Outcome.FELL_THROUGH: "fall_through",
}
MAX_NOTE = 2000
MAX_REASON = 2000
# Outbox event: a fact behind vendors' behaviour figures changed (an offer, a pass, a deal's
# outcome, a request that stopped being open). Reputation, a floor above, stores the figures; the
# pipeline has them recomputed when it takes the event (``broker.pipeline.handlers``).
BEHAVIOUR_CHANGED = "vendor.behaviour_changed"


def behaviour_changed(
    *, vendor_ids: Iterable[int] = (), intent_id: UUID | str | None = None, dispatch: bool = True
) -> None:
    """Record ``BEHAVIOUR_CHANGED`` in the caller's transaction, for these vendors or for every
    vendor the request ``intent_id`` was delivered to. ``dispatch=False`` for the facts a vendor
    records many of (its offers and passes): the event waits, at most ``OUTBOX_REDISPATCH_AFTER``
    and a sweep, to be taken with the others (``broker.core.outbox.record_event``)."""
    record_event(
        BEHAVIOUR_CHANGED,
        {"vendor_ids": sorted(set(vendor_ids)), "intent_id": str(intent_id) if intent_id is not None else None},
        dispatch=dispatch,
    )


def intent_may(intent: Intent, transition: str) -> bool:
    return intent.status in INTENT_TRANSITIONS[transition][0]


def bid_may(bid: Bid, transition: str) -> bool:
    return bid.status in BID_TRANSITIONS[transition][0]


def offer_expired(bid: Bid, now: datetime | None = None) -> bool:
    """An offer past its ``valid_until``, whether or not beat has marked it yet."""
    return bid.valid_until is not None and bid.valid_until <= (now or timezone.now())


def _check_open(intent: Intent) -> None:
    if not intent_may(intent, "accept"):  # every customer transition on offers starts from an open request
        raise IntentClosed(f"This request is {intent.get_status_display().lower()}.")


def _move_bids(bids: Iterable[Bid], transition: str, *, now: datetime, reason: str = "") -> list[Bid]:
    """Move ``bids`` (locked by the caller's intent lock or their own) through ``transition``,
    let their open counters lapse, and tell their vendors where someone else did it. Returns
    the bids that moved."""
    sources, target = BID_TRANSITIONS[transition]
    moved = [bid for bid in bids if bid.status in sources]
    if not moved:
        return []
    ids = [bid.pk for bid in moved]
    Bid.objects.filter(pk__in=ids, status__in=sources).update(
        status=target, decided_at=now, updated_at=now, decline_reason=reason
    )
    BidCounter.objects.filter(bid_id__in=ids, status=BidCounter.Status.OPEN).update(
        status=BidCounter.Status.LAPSED, answered_at=now
    )
    for bid in moved:
        bid.status, bid.decided_at, bid.updated_at, bid.decline_reason = target, now, now, reason
    if transition in BID_EVENTS:
        for bid in moved:
            record_vendor_events(
                kind=BID_EVENTS[transition], subject=str(bid.pk), data_by_vendor={bid.vendor_id: bid_for_vendor(bid)}
            )
    return moved


def _active_bids(intent: Intent) -> list[Bid]:
    return list(Bid.objects.filter(intent=intent, status=BidStatus.ACTIVE).order_by("created_at"))


def _close(intent: Intent, transition: str, *, close_reason: str, removal_reason: str = "") -> Intent:
    """Close a locked request: its active offers are declined (or, for a moderator's removal,
    withdrawn by moderation) and their vendors told, then its status is written, which tells
    every vendor that has it (``intent.withdrawn`` with the reason)."""
    if transition == "remove":
        _move_bids(_active_bids(intent), "moderate", now=timezone.now())
    else:
        _move_bids(_active_bids(intent), "decline", now=timezone.now(), reason=Bid.DeclineReason.REQUEST_CLOSED)
    closed = close_intent(
        intent,
        status=INTENT_TRANSITIONS[transition][1],
        close_reason=close_reason,
        removal_reason=removal_reason,
    )
    behaviour_changed(intent_id=intent.pk)  # its deliveries are due an answer now
    return closed


# The customer's transitions ----------------------------------------------------------------


def _customer_bid(customer: User, bid_id: UUID | str) -> tuple[Intent, Bid]:
    """The bid on one of the customer's open requests, with that request locked."""
    intent_id = Bid.objects.filter(pk=bid_id, intent__customer=customer).values_list("intent_id", flat=True).first()
    if intent_id is None:
        raise NotFound("No such offer.")
    intent = lock_intent(intent_id=intent_id, customer=customer)
    if intent is None:
        raise NotFound("No such offer.")
    _check_open(intent)
    bid = Bid.objects.get(pk=bid_id)  # read under the intent's lock: bids change only under it
    return intent, bid


@transaction.atomic
def accept_bid(*, customer: User, bid_id: UUID | str) -> Intent:
    """Accept one offer: the deal is agreed, the other offers are declined and the request
    closes to new offers."""
    intent, bid = _customer_bid(customer, bid_id)
    now = timezone.now()
    if intent.is_sealed(now):
        raise IntentClosed("The offers are sealed until your deadline; you can accept one after it.")
    if not bid_may(bid, "accept"):
        raise BidNotActive(f"This offer is {bid.get_status_display().lower()} and can no longer be accepted.")
    if offer_expired(bid, now):
        raise BidNotActive("This offer has expired and can no longer be accepted.")
    _move_bids([bid], "accept", now=now)
    others = [other for other in _active_bids(intent) if other.pk != bid.pk]
    _move_bids(others, "decline", now=now, reason=Bid.DeclineReason.ANOTHER_ACCEPTED)
    close_intent(intent, status=INTENT_TRANSITIONS["accept"][1])
    behaviour_changed(intent_id=intent.pk)  # its deliveries are due an answer now
    deal_agreed(intent=intent, vendor_name=Vendor.objects.get(pk=bid.vendor_id).name)
    return intent


@transaction.atomic
def decline_bid(*, customer: User, bid_id: UUID | str, reason: str = "") -> Bid:
    """She turns one offer down, with a reason from the short list; the request stays open."""
    if reason and reason not in CUSTOMER_DECLINE_REASONS:
        raise ValidationError({"reason": "Choose a reason from the list."})
    _intent, bid = _customer_bid(customer, bid_id)
    if not _move_bids([bid], "decline", now=timezone.now(), reason=reason or Bid.DeclineReason.OTHER):
        raise BidNotActive("Only an active offer can be declined.")
    return bid


@transaction.atomic
def counter_bid(
    *,
    customer: User,
    bid_id: UUID | str,
    target_amount: Decimal | None = None,
    target_attributes: Any = None,
    note: str = "",
) -> BidCounter:
    """She asks the vendor for a better offer: a target price and/or other offered values, with
    a note. At most one open counter per offer; the vendor gets ``bid.countered``."""
    intent, bid = _customer_bid(customer, bid_id)
    if intent.is_sealed():
        raise IntentClosed("The offers are sealed until your deadline.")
    if not bid_may(bid, "decline") or offer_expired(bid):
        raise BidNotActive("Only an active offer can be countered.")
    errors: dict[str, Any] = {}
    note = (note or "").strip()
    attributes: dict[str, Any] = {}
    if target_amount is not None and target_amount < 0:
        errors["target_amount"] = "Enter an amount of zero or more."
    elif target_amount is not None:
        target_amount = target_amount.quantize(Decimal("0.01"))
    if target_attributes:
        try:
            attributes = clean_offer_attributes(category_schema(intent.category), target_attributes)
        except ValidationError as error:
            errors.update({f"target_attributes.{key}": value for key, value in error.message_dict.items()})
    if target_amount is None and not attributes and not note:
        errors["target_amount"] = "Say what would make the offer better: a price, a change, or a note."
    if len(note) > MAX_NOTE:
        errors["note"] = f"Keep the note under {MAX_NOTE} characters."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            counter = BidCounter.objects.create(
                bid=bid, target_amount=target_amount, target_attributes=attributes, note=note
            )
    except IntegrityError:
        raise Conflict("You have already asked this vendor for a better offer; wait for its answer.") from None
    record_vendor_events(
        kind=VendorEvent.Kind.BID_COUNTERED,
        subject=str(counter.pk),
        data_by_vendor={bid.vendor_id: {**bid_for_vendor(bid), "counter": counter_for_vendor(counter)}},
    )
    return counter


@transaction.atomic
def withdraw_intent(*, customer: User, intent_id: UUID | str, reason: str = Intent.CloseReason.WITHDRAWN) -> Intent:
    """She takes her request back (bought elsewhere, no longer needed, ...); vendors are told
    the reason."""
    if reason not in CUSTOMER_CLOSE_REASONS:
        raise ValidationError({"reason": "Choose a reason from the list."})
    intent = lock_intent(intent_id=intent_id, customer=customer)
    if intent is None:
        raise NotFound("No such request.")
    if not intent_may(intent, "withdraw"):  # open, or still in review
        raise IntentClosed(f"This request is {intent.get_status_display().lower()}.")
    return _close(intent, "withdraw", close_reason=reason)


# The vendor's transitions ------------------------------------------------------------------


@transaction.atomic
def withdraw_bid(*, vendor: Vendor, bid: Bid) -> Bid:
    """The vendor takes its offer back. The record stays, with status ``withdrawn``."""
    bid = Bid.objects.select_for_update().get(pk=bid.pk, vendor=vendor)
    if not _move_bids([bid], "withdraw", now=timezone.now()):
        raise BidNotActive(f"This bid is {bid.status}; only an active bid can be withdrawn.")
    return bid


def answer_counter(*, bid: Bid) -> BidCounter | None:
    """The vendor revised its offer: the open counter, if any, is answered (she is emailed).
    Called by ``vendors.services.revise_bid`` in its transaction."""
    counter = BidCounter.objects.filter(bid=bid, status=BidCounter.Status.OPEN).first()
    if counter is None:
        return None
    counter.status, counter.answered_at = BidCounter.Status.ANSWERED, timezone.now()
    counter.save(update_fields=["status", "answered_at"])
    counter_answered(intent=bid.intent, vendor_name=bid.vendor.name, revised=True)
    return counter


@transaction.atomic
def decline_counter(*, vendor: Vendor, bid: Bid) -> BidCounter:
    """The vendor will not improve its offer; she is emailed and the offer stands as it is."""
    counter = (
        BidCounter.objects.select_for_update()
        .filter(bid=bid, bid__vendor=vendor, status=BidCounter.Status.OPEN)
        .first()
    )
    if counter is None:
        raise NotFound("No open counter on this bid.")
    counter.status, counter.answered_at = BidCounter.Status.DECLINED, timezone.now()
    counter.save(update_fields=["status", "answered_at"])
    counter_answered(intent=bid.intent, vendor_name=vendor.name, revised=False)
    return counter


# After the deal ----------------------------------------------------------------------------


@transaction.atomic
def mark_outcome(
    *, bid: Bid, side: str, outcome: str, reason: str = "", customer: User | None = None, vendor: Vendor | None = None
) -> DealOutcome:
    """One side says how the agreed deal ended. The first word moves the request to "deal
    completed" or "deal fell through"; the other side's word is recorded beside it (and a
    disagreement stays visible to moderators). The vendor is told her word (``deal.updated``)."""
    if outcome not in OUTCOME_TRANSITIONS:
        raise ValidationError({"outcome": "Say whether the deal was completed or fell through."})
    reason = (reason or "").strip()
    if outcome == DealOutcome.Outcome.FELL_THROUGH and not reason:
        raise ValidationError({"reason": "Say why the deal fell through."})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": f"Keep it under {MAX_REASON} characters."})
    intent = lock_intent(intent_id=bid.intent_id, customer=customer)
    if intent is None or (vendor is not None and bid.vendor_id != vendor.pk):
        raise NotFound("No such deal.")
    bid = Bid.objects.get(pk=bid.pk)
    if bid.status != BidStatus.ACCEPTED:
        raise BidNotActive("Only an agreed deal can be marked completed or fallen through.")
    try:
        with transaction.atomic():
            word = DealOutcome.objects.create(bid=bid, side=side, outcome=outcome, reason=reason)
    except IntegrityError:
        raise Conflict("You have already said how this deal ended.") from None
    transition = OUTCOME_TRANSITIONS[outcome]
    if intent_may(intent, transition):
        close_intent(intent, status=INTENT_TRANSITIONS[transition][1])
    behaviour_changed(vendor_ids=[bid.vendor_id])
    if side == DealOutcome.Side.CUSTOMER:  # the vendor knows its own word
        record_vendor_events(
            kind=VendorEvent.Kind.DEAL_UPDATED,
            subject=f"{bid.pk}:{side}",
            data_by_vendor={bid.vendor_id: {**bid_for_vendor(bid), "outcome": outcome_for_vendor(word)}},
        )
    else:  # she hears the vendor's word
        deal_outcome(
            intent=intent,
            vendor_name=Vendor.objects.get(pk=bid.vendor_id).name,
            completed=outcome == DealOutcome.Outcome.COMPLETED,
        )
    return word


def outcome_for_vendor(word: DealOutcome) -> dict[str, str]:
    return {"side": word.side, "outcome": word.outcome, "reason": word.reason, "at": word.created_at.isoformat()}


def deal_completed_at(bid: Bid) -> datetime | None:
    """When a side first said the deal was completed (ratings open then), or None."""
    word = bid.outcomes.filter(outcome=DealOutcome.Outcome.COMPLETED).order_by("created_at").first()
    return word.created_at if word is not None else None


# Moderation, amendments and time ----------------------------------------------------------


def required_reason(reason: str) -> str:
    """Every moderation action says why (kept in the audit log, and told to whoever it affects)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why: the reason is kept in the audit log."})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": f"Keep the reason to {MAX_REASON:,} characters at most."})
    return reason


@transaction.atomic
def remove_intent(*, moderator: User | None, intent: Intent, reason: str) -> Intent:
    """A moderator takes a request down: its offers are withdrawn by moderation, the vendors are
    told (reason ``moderation``), she is emailed the reason, and the audit log records it. A
    held request (in review) is removed the same way; no vendor ever had it."""
    reason = required_reason(reason)
    locked = lock_intent(intent_id=intent.pk)
    if locked is None:
        raise NotFound("No such request.")
    if not intent_may(locked, "remove"):
        return locked  # removed already
    _close(locked, "remove", close_reason=Intent.CloseReason.MODERATION, removal_reason=reason)
    record_audit(actor=moderator, action="intent.removed", target=locked, reason=reason)
    request_removed(intent=locked)
    return locked


@transaction.atomic
def release_intent(*, moderator: User | None, intent: Intent, reason: str) -> Intent:
    """A moderator releases a request a review rule held: it opens and is cast as if just
    published (``intent.published``); she is told; the audit log records it. Refused
    (``IntentClosed``) unless it is in review."""
    reason = required_reason(reason)
    locked = lock_intent(intent_id=intent.pk)
    if locked is None:
        raise NotFound("No such request.")
    if not intent_may(locked, "release"):
        raise IntentClosed(f"This request is {locked.get_status_display().lower()}, not in review.")
    open_released_intent(locked)
    record_audit(actor=moderator, action="intent.released", target=locked, reason=reason)
    request_released(intent=locked)
    return locked


def withdraw_vendor_offers(*, vendor: Vendor) -> list[Bid]:
    """A suspended vendor's active offers are withdrawn by moderation (the record stays, with
    status ``withdrawn_by_moderation``), each customer is told on her request. The caller writes
    the suspension and the audit entry in the same transaction."""
    bids = list(
        Bid.objects.select_for_update()
        .filter(vendor=vendor, status=BidStatus.ACTIVE)
        .select_related("intent")
        .order_by("created_at")
    )
    moved = _move_bids(bids, "moderate", now=timezone.now())
    told: set[UUID] = set()
    for bid in moved:
        if bid.intent_id not in told:
            told.add(bid.intent_id)
            offers_withdrawn_by_moderation(intent=bid.intent, vendor_name=vendor.name)
    return moved


def unmatch(*, intent: Intent, vendor_ids: Iterable[int]) -> list[Bid]:
    """Her amended request no longer matches these vendors: their active offers are declined
    (reason ``no_longer_matches``). The caller holds the request's lock."""
    bids = [bid for bid in _active_bids(intent) if bid.vendor_id in set(vendor_ids)]
    return _move_bids(bids, "decline", now=timezone.now(), reason=Bid.DeclineReason.NO_LONGER_MATCHES)


def expire_intents(*, now: datetime | None = None) -> int:
    """Close every open request past its expiry. Returns how many closed."""
    now = now or timezone.now()
    expired = 0
    for intent_id in open_intents_past_expiry(now=now):
        with transaction.atomic():
            intent = lock_intent(intent_id=intent_id)
            if intent is not None and intent_may(intent, "expire"):
                _close(intent, "expire", close_reason=Intent.CloseReason.EXPIRED)
                request_expired(intent=intent)
                expired += 1
    return expired


def expire_bids(*, now: datetime | None = None) -> int:
    """Every active offer past its ``valid_until`` becomes expired; open counters on it lapse.
    Returns how many."""
    now = now or timezone.now()
    sources, target = BID_TRANSITIONS["expire"]
    ids = list(Bid.objects.filter(status__in=sources, valid_until__lte=now).values_list("pk", flat=True))
    BidCounter.objects.filter(bid_id__in=ids, status=BidCounter.Status.OPEN).update(
        status=BidCounter.Status.LAPSED, answered_at=now
    )
    return Bid.objects.filter(pk__in=ids, status__in=sources).update(status=target, decided_at=now, updated_at=now)
