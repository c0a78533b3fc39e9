"""The deal: one state machine for a request and the bids on it.

Every change of an intent's or a bid's status after it was made goes through a transition here,
named in the two tables below; a transition that the tables do not allow raises the domain's
``IntentClosed`` or ``BidNotActive``. Each transition is a service that takes the row locks,
writes the statuses (the intent's through its owner, ``intents.services.close_intent``) and
records what the vendors are told:

=================  ========================  ===========================  =========================
transition         intent                    bids                         vendors are told
=================  ========================  ===========================  =========================
accept a bid       open → accepted           that one active → accepted,  ``bid.accepted``;
                                             every other active →         ``bid.declined`` to each
                                             declined                     of the others
decline a bid      stays open                active → declined            ``bid.declined``
withdraw a bid     stays open                active → withdrawn           (the vendor did it)
expire a bid       stays open                active → expired             (its own ``valid_until``)
withdraw request   open → withdrawn          every active → declined      ``bid.declined``, then
expire request     open → expired            every active → declined      ``intent.withdrawn`` to
remove request     any → removed             every active → declined      every vendor that has it
=================  ========================  ===========================  =========================

``intent.withdrawn`` is written by the pipeline from the outbox event ``intent.closed``, because
it carries each vendor's full view of the intent (``broker.pipeline.vendor_view``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from broker.core.audit import record_audit
from broker.core.errors import BidNotActive, IntentClosed, NotFound
from intents.models import Intent
from intents.selectors import lock_intent, open_intents_past_expiry
from intents.services import close_intent
from vendors.events import record_vendor_events
from vendors.models import Bid, Vendor, VendorEvent
from vendors.payloads import bid_for_vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

IntentStatus = Intent.Status
BidStatus = Bid.Status

# transition: (the statuses it may start from, the status it ends in)
INTENT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({IntentStatus.OPEN}), IntentStatus.ACCEPTED),
    "withdraw": (frozenset({IntentStatus.OPEN}), IntentStatus.WITHDRAWN),
    "expire": (frozenset({IntentStatus.OPEN}), IntentStatus.EXPIRED),
    "remove": (frozenset(IntentStatus.values) - {IntentStatus.REMOVED}, IntentStatus.REMOVED),
}
BID_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({BidStatus.ACTIVE}), BidStatus.ACCEPTED),
    "decline": (frozenset({BidStatus.ACTIVE}), BidStatus.DECLINED),
    "withdraw": (frozenset({BidStatus.ACTIVE}), BidStatus.WITHDRAWN),
    "expire": (frozenset({BidStatus.ACTIVE}), BidStatus.EXPIRED),
}
# What the vendor is told when its bid takes a transition the customer made.
BID_EVENTS = {"accept": VendorEvent.Kind.BID_ACCEPTED, "decline": VendorEvent.Kind.BID_DECLINED}


def intent_may(intent: Intent, transition: str) -> bool:
    return intent.status in INTENT_TRANSITIONS[transition][0]


def bid_may(bid: Bid, transition: str) -> bool:
    return bid.status in BID_TRANSITIONS[transition][0]


def _check_open(intent: Intent) -> None:
    if not intent_may(intent, "accept"):  # every customer transition starts from an open request
        raise IntentClosed(f"This request is {intent.get_status_display().lower()}.")


def _move_bids(bids: Iterable[Bid], transition: str, *, now: datetime) -> list[Bid]:
    """Move ``bids`` (locked by the caller's intent lock or their own) through ``transition``
    and tell their vendors where the customer did it. Returns the bids that moved."""
    sources, target = BID_TRANSITIONS[transition]
    moved = [bid for bid in bids if bid.status in sources]
    if not moved:
        return []
    Bid.objects.filter(pk__in=[bid.pk for bid in moved], status__in=sources).update(
        status=target, decided_at=now, updated_at=now
    )
    for bid in moved:
        bid.status, bid.decided_at, bid.updated_at = target, now, now
    if transition in BID_EVENTS:
        for bid in moved:
            record_vendor_events(
                kind=BID_EVENTS[transition], subject=str(bid.pk), data_by_vendor={bid.vendor_id: bid_for_vendor(bid)}
            )
    return moved


def _active_bids(intent: Intent) -> list[Bid]:
    return list(Bid.objects.filter(intent=intent, status=BidStatus.ACTIVE).order_by("created_at"))


def _close(intent: Intent, transition: str, *, reason: str = "") -> Intent:
    """Close a locked request: its active bids are declined (and their vendors told), then its
    status is written, which tells every vendor that has it."""
    _move_bids(_active_bids(intent), "decline", now=timezone.now())
    return close_intent(intent, status=INTENT_TRANSITIONS[transition][1], reason=reason)


# The customer's transitions ----------------------------------------------------------------


def _customer_bid(customer: User, bid_id: UUID | str) -> tuple[Intent, Bid]:
    """The bid on one of the customer's open requests, with that request locked."""
    intent_id = Bid.objects.filter(pk=bid_id, intent__customer=customer).values_list("intent_id", flat=True).first()
    if intent_id is None:
        raise NotFound("No such bid.")
    intent = lock_intent(intent_id=intent_id, customer=customer)
    if intent is None:
        raise NotFound("No such bid.")
    _check_open(intent)
    bid = Bid.objects.get(pk=bid_id)  # read under the intent's lock: bids change only under it
    return intent, bid


@transaction.atomic
def accept_bid(*, customer: User, bid_id: UUID | str) -> Intent:
    """Accept one bid: the others are declined and the request closes to new bids."""
    intent, bid = _customer_bid(customer, bid_id)
    if not bid_may(bid, "accept"):
        raise BidNotActive(f"This bid is {bid.get_status_display().lower()} and can no longer be accepted.")
    now = timezone.now()
    _move_bids([bid], "accept", now=now)
    _move_bids([other for other in _active_bids(intent) if other.pk != bid.pk], "decline", now=now)
    return close_intent(intent, status=INTENT_TRANSITIONS["accept"][1])


@transaction.atomic
def decline_bid(*, customer: User, bid_id: UUID | str) -> Bid:
    """The customer turns one bid down; the request stays open for the others."""
    _intent, bid = _customer_bid(customer, bid_id)
    if not _move_bids([bid], "decline", now=timezone.now()):
        raise BidNotActive("Only an active bid can be declined.")
    return bid


@transaction.atomic
def withdraw_intent(*, customer: User, intent_id: UUID | str) -> Intent:
    """The customer takes her request back; vendors are told."""
    intent = lock_intent(intent_id=intent_id, customer=customer)
    if intent is None:
        raise NotFound("No such request.")
    _check_open(intent)
    return _close(intent, "withdraw")


# The vendor's transitions ------------------------------------------------------------------


@transaction.atomic
def withdraw_bid(*, vendor: Vendor, bid: Bid) -> Bid:
    """The vendor takes its bid back. The record stays, with status ``withdrawn``."""
    bid = Bid.objects.select_for_update().get(pk=bid.pk, vendor=vendor)
    if not _move_bids([bid], "withdraw", now=timezone.now()):
        raise BidNotActive(f"This bid is {bid.status}; only an active bid can be withdrawn.")
    return bid


# Moderation and time -----------------------------------------------------------------------


@transaction.atomic
def remove_intent(*, moderator: User, intent: Intent, reason: str) -> Intent:
    """A moderator takes a request down; recorded in the audit log."""
    locked = lock_intent(intent_id=intent.pk)
    if locked is None:
        raise NotFound("No such request.")
    if not intent_may(locked, "remove"):
        return locked  # removed already
    _close(locked, "remove", reason=reason)
    record_audit(actor=moderator, action="intent.removed", target=locked, reason=reason)
    return locked


def expire_intents(*, now: datetime | None = None) -> int:
    """Close every open request past its expiry. Returns how many closed."""
    now = now or timezone.now()
    expired = 0
    for intent_id in open_intents_past_expiry(now=now):
        with transaction.atomic():
            intent = lock_intent(intent_id=intent_id)
            if intent is not None and intent_may(intent, "expire"):
                _close(intent, "expire")
                expired += 1
    return expired


def expire_bids(*, now: datetime | None = None) -> int:
    """Every active bid past its ``valid_until`` becomes expired. Returns how many."""
    now = now or timezone.now()
    sources, target = BID_TRANSITIONS["expire"]
    return Bid.objects.filter(status__in=sources, valid_until__lte=now).update(
        status=target, decided_at=now, updated_at=now
    )
