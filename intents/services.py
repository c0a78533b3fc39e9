"""Every write on the customer side: publishing, accepting, withdrawing, moderating."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from broker.audit import record_audit
from broker.errors import BidNotActive, IntentClosed, NotFound, prefixed_errors
from broker.money import clean_currency
from broker.outbox import record_event
from intents.attributes import clean_attributes
from intents.models import Block, Category, IdentityReveal, Intent, Pseudonym, Region
from intents.taxonomy import category_schema
from intents.terms import clean_terms

INTENT_PUBLISHED = "intent.published"
INTENT_CLOSED = "intent.closed"
MAX_LIFETIME = timedelta(days=180)


def clean_intent(
    *,
    title: str,
    category: Category | None,
    region: Region | None,
    attributes: Any,
    budget_max: Decimal | None,
    currency: str,
    terms: Any,
    expires_at: datetime | None,
) -> dict[str, Any]:
    """Validate what a customer submits; one ``ValidationError`` keyed by field for it all."""
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    if not (title or "").strip():
        errors["title"] = "Say in a few words what you want."
    if category is None:
        errors["category"] = "Choose a category."
    else:
        try:
            cleaned["attributes"] = clean_attributes(category_schema(category), attributes)
        except ValidationError as error:
            errors.update(prefixed_errors("attributes", error))
    if region is None:
        errors["region"] = "Choose a region."
    if budget_max is not None:
        if budget_max < 0:
            errors["budget_max"] = "The budget cannot be negative."
        try:
            cleaned["currency"] = clean_currency(currency)
        except ValidationError as error:
            errors.update(error.message_dict)
    else:
        cleaned["currency"] = ""
    try:
        cleaned["terms"] = clean_terms(terms)
    except ValidationError as error:
        errors.update(error.message_dict)
    now = timezone.now()
    if expires_at is None:
        cleaned["expires_at"] = now + timedelta(days=14)
    elif expires_at <= now:
        errors["expires_at"] = "Choose a time in the future."
    elif expires_at > now + MAX_LIFETIME:
        errors["expires_at"] = "A request can stay open for at most 180 days."
    else:
        cleaned["expires_at"] = expires_at
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def publish_intent(
    *,
    customer,
    title: str,
    category: Category | None,
    region: Region | None,
    details: str = "",
    attributes: Any = None,
    budget_max: Decimal | None = None,
    currency: str = "",
    terms: Any = None,
    expires_at: datetime | None = None,
    language: str = "en",
) -> Intent:
    """Save the intent and its ``intent.published`` outbox event in one transaction; the
    pipeline casts it to matching vendors after commit."""
    cleaned = clean_intent(
        title=title,
        category=category,
        region=region,
        attributes=attributes,
        budget_max=budget_max,
        currency=currency,
        terms=terms,
        expires_at=expires_at,
    )
    intent = Intent.objects.create(
        customer=customer,
        title=title.strip(),
        details=(details or "").strip(),
        category=category,
        region=region,
        budget_max=budget_max,
        language=language or "en",
        **cleaned,
    )
    record_event(INTENT_PUBLISHED, {"intent_id": str(intent.pk)})
    return intent


def ensure_pseudonyms(*, customer_id: int, vendor_ids: list[int]) -> dict[int, str]:
    """The customer's handle for each vendor, made on first contact. Handles are random, so
    nothing about them links one vendor's view of the customer to another's."""
    from broker.events import insert_ignoring_conflicts

    handles = _handles(customer_id, vendor_ids)
    for _attempt in range(3):
        missing = [vendor_id for vendor_id in dict.fromkeys(vendor_ids) if vendor_id not in handles]
        if not missing:
            break
        made = {vendor_id: f"c_{secrets.token_hex(8)}" for vendor_id in missing}
        now = timezone.now()
        inserted = insert_ignoring_conflicts(
            Pseudonym,
            ("customer", "vendor", "handle", "created_at"),
            [(customer_id, vendor_id, handle, now) for vendor_id, handle in made.items()],
        )
        if inserted == len(made):
            handles.update(made)
        else:  # another worker made some first (or, once in 2^64, a handle was taken): read them back
            handles.update(_handles(customer_id, missing))
    return handles


def _handles(customer_id: int, vendor_ids: list[int]) -> dict[int, str]:
    from broker.events import filter_by_ids

    handles: dict[int, str] = {}
    for queryset in filter_by_ids(Pseudonym.objects.filter(customer_id=customer_id), "vendor", vendor_ids):
        handles.update(queryset.values_list("vendor_id", "handle"))
    return handles


def _locked_open_intent(customer, intent_id) -> Intent:
    intent = Intent.objects.select_for_update().filter(pk=intent_id, customer=customer).first()
    if intent is None:
        raise NotFound("No such request.")
    if not intent.is_open:
        raise IntentClosed(f"This request is {intent.get_status_display().lower()}.")
    return intent


def _notify_bid_decisions(intent: Intent, *, accepted=None, declined=()) -> None:
    from broker.events import record_vendor_events
    from broker.models import VendorEvent
    from broker.payloads import bid_for_vendor

    if accepted is not None:
        record_vendor_events(
            kind=VendorEvent.Kind.BID_ACCEPTED,
            subject=str(accepted.pk),
            data_by_vendor={accepted.vendor_id: bid_for_vendor(accepted)},
        )
    for bid in declined:
        record_vendor_events(
            kind=VendorEvent.Kind.BID_DECLINED, subject=str(bid.pk), data_by_vendor={bid.vendor_id: bid_for_vendor(bid)}
        )


@transaction.atomic
def accept_bid(*, customer, bid_id) -> Intent:
    """Accept one bid: the others are declined and the intent closes to new bids."""
    from vendors.models import Bid
    from vendors.services import settle_bids

    bid = Bid.objects.filter(pk=bid_id, intent__customer=customer).first()
    if bid is None:
        raise NotFound("No such bid.")
    intent = _locked_open_intent(customer, bid.intent_id)
    bid.refresh_from_db()
    if bid.status != Bid.Status.ACTIVE:
        raise BidNotActive(f"This bid is {bid.get_status_display().lower()} and can no longer be accepted.")
    declined = settle_bids(intent=intent, accepted=bid)
    intent.status = Intent.Status.ACCEPTED
    intent.closed_at = timezone.now()
    intent.save(update_fields=["status", "closed_at", "updated_at"])
    bid.refresh_from_db()
    for other in declined:
        other.refresh_from_db()
    _notify_bid_decisions(intent, accepted=bid, declined=declined)
    return intent


@transaction.atomic
def decline_bid(*, customer, bid_id) -> None:
    from vendors.models import Bid
    from vendors.services import decline_bid as mark_declined

    bid = Bid.objects.filter(pk=bid_id, intent__customer=customer).first()
    if bid is None:
        raise NotFound("No such bid.")
    intent = _locked_open_intent(customer, bid.intent_id)
    mark_declined(bid=bid)
    bid.refresh_from_db()
    _notify_bid_decisions(intent, declined=[bid])


def _close(intent: Intent, status: str) -> None:
    from vendors.services import decline_all_bids

    intent.status = status
    intent.closed_at = timezone.now()
    intent.save(update_fields=["status", "closed_at", "updated_at", "removal_reason"])
    declined = decline_all_bids(intent=intent)
    for bid in declined:
        bid.refresh_from_db()
    _notify_bid_decisions(intent, declined=declined)
    record_event(INTENT_CLOSED, {"intent_id": str(intent.pk)})


@transaction.atomic
def withdraw_intent(*, customer, intent_id) -> Intent:
    intent = _locked_open_intent(customer, intent_id)
    _close(intent, Intent.Status.WITHDRAWN)
    return intent


@transaction.atomic
def remove_intent(*, moderator, intent: Intent, reason: str) -> Intent:
    """A moderator takes a request down; recorded in the audit log."""
    intent = Intent.objects.select_for_update().get(pk=intent.pk)
    if intent.status == Intent.Status.REMOVED:
        return intent
    intent.removal_reason = reason
    was_open = intent.is_open
    if was_open:
        _close(intent, Intent.Status.REMOVED)
    else:
        intent.status = Intent.Status.REMOVED
        intent.save(update_fields=["status", "removal_reason", "updated_at"])
    record_audit(actor=moderator, action="intent.removed", target=intent, reason=reason)
    return intent


def expire_intents(*, now: datetime | None = None) -> int:
    """Close every open intent past its expiry."""
    now = now or timezone.now()
    expired = 0
    for intent_id in Intent.objects.filter(status=Intent.Status.OPEN, expires_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            intent = Intent.objects.select_for_update().get(pk=intent_id)
            if intent.is_open:
                _close(intent, Intent.Status.EXPIRED)
                expired += 1
    return expired


def block_vendor(*, customer, vendor_id: int) -> Block:
    block, _ = Block.objects.get_or_create(customer=customer, vendor_id=vendor_id, blocked_by=Block.Side.CUSTOMER)
    return block


def block_customer(*, vendor, handle: str) -> Block:
    """A vendor blocks the customer it knows by ``handle``."""
    pseudonym = Pseudonym.objects.filter(vendor=vendor, handle=handle).first()
    if pseudonym is None:
        raise NotFound("No customer with that handle.")
    block, _ = Block.objects.get_or_create(
        customer_id=pseudonym.customer_id, vendor=vendor, blocked_by=Block.Side.VENDOR
    )
    return block


@transaction.atomic
def reveal_identity(*, customer, intent_id, name: str, email: str, phone: str = "") -> IdentityReveal:
    """After accepting a bid, the customer tells that vendor, and no other, who she is.

    Only what she typed is shared; the vendor gets an ``identity.revealed`` event and from then
    on sees it with the intents of hers it holds. Telling the same vendor again updates it.
    """
    from broker.events import record_vendor_events
    from broker.models import VendorEvent
    from vendors.models import Bid

    intent = Intent.objects.select_for_update().filter(pk=intent_id, customer=customer).first()
    if intent is None:
        raise NotFound("No such request.")
    accepted = Bid.objects.filter(intent=intent, status=Bid.Status.ACCEPTED).first()
    if accepted is None:
        raise IntentClosed("You can tell a vendor who you are once you have accepted its bid.")
    errors = {}
    name, email, phone = (name or "").strip(), (email or "").strip(), (phone or "").strip()
    if not name:
        errors["name"] = "Give the name the vendor should use."
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter a valid email address."
    if len(phone) > 40:
        errors["phone"] = "Keep the phone number under 40 characters."
    if errors:
        raise ValidationError(errors)
    reveal, _ = IdentityReveal.objects.update_or_create(
        customer=customer,
        vendor_id=accepted.vendor_id,
        defaults={"intent": intent, "name": name, "email": email, "phone": phone},
    )
    handle = ensure_pseudonyms(customer_id=customer.pk, vendor_ids=[accepted.vendor_id])[accepted.vendor_id]
    VendorEvent.objects.filter(
        vendor_id=accepted.vendor_id, kind=VendorEvent.Kind.IDENTITY_REVEALED, subject=str(intent.pk)
    ).delete()  # a correction replaces the earlier event
    record_vendor_events(
        kind=VendorEvent.Kind.IDENTITY_REVEALED,
        subject=str(intent.pk),
        data_by_vendor={accepted.vendor_id: {"intent": str(intent.pk), "customer": handle, **reveal.shared()}},
    )
    return reveal
