"""Writes on the vendor side: vendors, keys, subscriptions and their index, the inbox, bids.
The bids' state changes after they are placed (accept, decline, withdraw, expire) are the deal's:
``vendors.deal``."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import psycopg
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Model
from django.db.models.base import ModelState
from django.utils import timezone

from broker.core.audit import record_audit
from broker.core.bulk import insert_new, uniform_ids
from broker.core.errors import AlreadyBidding, BidNotActive, Conflict, IntentClosed, NotFound, prefixed_errors
from broker.core.keywords import MAX_STEM, index_stem, keyword_stems
from broker.core.mail import email_after_commit
from broker.core.money import clean_currency
from broker.core.statements import execute_prepared
from intents.attributes import clean_filters, clean_offer_attributes
from intents.models import Category, Intent, Region
from intents.notifications import bid_received
from intents.selectors import lock_intent
from intents.taxonomy import categories_filter_schema, remembered_category_schema
from intents.terms import legacy_terms
from vendors.agreements import agree_by_bidding
from vendors.deal import answer_counter, behaviour_changed, required_reason, withdraw_vendor_offers
from vendors.models import ApiKey, Bid, BidPhoto, BidRevision, Delivery, Subscription, SubscriptionKey, Vendor
from vendors.relationships import (
    ensure_pseudonyms,
    in_one_statement,
    read_or_make_pseudonyms_params,
    read_or_make_pseudonyms_sql,
)
from vendors.selectors import bid_standing

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ModelT = TypeVar("ModelT", bound=Model)
KEY_PREFIX = "ic_"
KEY_NAME_MAX = 100
REJECTION_REASON_MAX = 2000
MAX_KEYWORDS = 50
MAX_SUBSCRIPTION_KEYS = 20_000


# Vendors and keys ------------------------------------------------------------------------


def create_vendor(*, name: str, contact_email: str, approve: bool = False, actor: User | None = None) -> Vendor:
    vendor = Vendor.objects.create(name=name, contact_email=contact_email)
    record_audit(actor=actor, action="vendor.created", target=vendor)
    if approve:
        approve_vendor(vendor=vendor, actor=actor)
    return vendor


def approve_vendor(*, vendor: Vendor, actor: User | None = None) -> Vendor:
    """Approve a vendor. One that signed up (pending) or was turned down is told by email; its
    area opens and its keys work from now on. A suspended vendor is not approved but reinstated
    (``reinstate_vendor``, with a reason), which also resumes the subscriptions its suspension
    paused."""
    if vendor.status == Vendor.Status.SUSPENDED:
        raise Conflict(f"{vendor.name} is suspended: reinstate it instead (that resumes its paused subscriptions).")
    first_approval = vendor.status in (Vendor.Status.PENDING, Vendor.Status.REJECTED)
    vendor.status = Vendor.Status.APPROVED
    vendor.approved_at = vendor.approved_at or timezone.now()
    vendor.rejected_at, vendor.rejection_reason = None, ""
    vendor.save(update_fields=["status", "approved_at", "rejected_at", "rejection_reason"])
    _forget_keys(vendor_id=vendor.pk)
    record_audit(actor=actor, action="vendor.approved", target=vendor)
    if first_approval:
        email_after_commit(
            to=vendor.contact_email,
            subject=f"{vendor.name} is approved on intentcast",
            body=f"Welcome to intentcast. {vendor.name} is approved: log in to the vendor area at "
            f"{settings.SITE_URL}/vendor/ to create API keys, register webhooks and invite your team.",
        )
    return vendor


def reject_vendor(*, vendor: Vendor, reason: str, actor: User | None = None) -> Vendor:
    """Turn down a vendor that signed up. The reason is required: it is emailed to the vendor,
    which can no longer open its area."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the vendor is turned down: the reason is emailed to it."})
    if len(reason) > REJECTION_REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason under {REJECTION_REASON_MAX} characters."})
    if vendor.status != Vendor.Status.PENDING:
        status = vendor.get_status_display().lower()
        raise ValidationError(
            {"status": f"Only a vendor awaiting approval can be turned down ({vendor.name}: {status})."}
        )
    vendor.status = Vendor.Status.REJECTED
    vendor.rejected_at = timezone.now()
    vendor.rejection_reason = reason
    vendor.save(update_fields=["status", "rejected_at", "rejection_reason"])
    record_audit(actor=actor, action="vendor.rejected", target=vendor, reason=reason)
    email_after_commit(
        to=vendor.contact_email,
        subject=f"Your intentcast application for {vendor.name}",
        body=f"We are sorry: we cannot approve {vendor.name} on intentcast.\n\nThe reason: {reason}\n\n"
        "If something was misunderstood, reply to this email.",
    )
    return vendor


@transaction.atomic
def suspend_vendor(*, vendor: Vendor, actor: User | None, reason: str) -> Vendor:
    """A moderator suspends a vendor (a reason is required): it can no longer use the API, its
    active subscriptions are paused (marked so that reinstating resumes those and only those) and
    its active offers are withdrawn by moderation, each customer told (``vendors.deal``); the
    audit log records it. Its reputation is refreshed by ``moderation.services``, a floor up."""
    reason = required_reason(reason)
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    if vendor.status == Vendor.Status.SUSPENDED:
        raise Conflict(f"{vendor.name} is suspended already.")
    vendor.status = Vendor.Status.SUSPENDED
    vendor.save(update_fields=["status"])
    _forget_keys(vendor_id=vendor.pk)  # suspended: refused from the next request on
    paused = Subscription.objects.filter(vendor=vendor, active=True).update(active=False, paused_by_moderation=True)
    withdrawn = withdraw_vendor_offers(vendor=vendor)
    record_audit(
        actor=actor,
        action="vendor.suspended",
        target=vendor,
        reason=reason,
        subscriptions_paused=paused,
        offers_withdrawn=[str(bid.pk) for bid in withdrawn],
    )
    return vendor


@transaction.atomic
def reinstate_vendor(*, vendor: Vendor, actor: User | None, reason: str) -> Vendor:
    """A moderator lifts a suspension (a reason is required): the vendor is approved again and
    the subscriptions its suspension paused resume (reindexed); offers withdrawn stay withdrawn.
    Audited."""
    reason = required_reason(reason)
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    if vendor.status != Vendor.Status.SUSPENDED:
        raise Conflict(f"{vendor.name} is not suspended.")
    vendor.status = Vendor.Status.APPROVED
    vendor.approved_at = vendor.approved_at or timezone.now()
    vendor.save(update_fields=["status", "approved_at"])
    _forget_keys(vendor_id=vendor.pk)
    paused = list(Subscription.objects.filter(vendor=vendor, paused_by_moderation=True))
    Subscription.objects.filter(pk__in=[s.pk for s in paused]).update(active=True, paused_by_moderation=False)
    for subscription in paused:
        subscription.active, subscription.paused_by_moderation = True, False
    index_subscriptions(paused)
    record_audit(
        actor=actor, action="vendor.reinstated", target=vendor, reason=reason, subscriptions_resumed=len(paused)
    )
    return vendor


def _digest(raw_key: str) -> str:
    # API keys are 32 random bytes, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def clean_key_name(*, vendor: Vendor, name: str) -> str:
    """A key's name: what the vendor calls it to tell its keys apart (with the prefix); printable,
    at most ``KEY_NAME_MAX`` characters."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the key, e.g. after the system that uses it."})
    if len(name) > KEY_NAME_MAX:
        raise ValidationError({"name": f"Keep the name under {KEY_NAME_MAX} characters."})
    if not name.isprintable():
        raise ValidationError({"name": "The name must not contain control characters."})
    return name


def issue_api_key(*, vendor: Vendor, name: str = "default", actor: User | None = None) -> tuple[ApiKey, str]:
    """A new key for ``vendor``. The raw key is returned once and never stored."""
    name = clean_key_name(vendor=vendor, name=name)
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(vendor=vendor, name=name, prefix=prefix, digest=_digest(raw_key))
    record_audit(actor=actor, action="api_key.created", target=api_key)
    return api_key, raw_key


def revoke_api_key(*, api_key: ApiKey, actor: User | None = None) -> None:
    """Revoke a key: from now on a call with it answers 401."""
    if api_key.revoked_at is not None:
        return
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    record_audit(actor=actor, action="api_key.revoked", target=api_key)
    # Refused from the next request on: remembered as revoked, so that a request which read the
    # key just before cannot put it back (authenticate_key only adds).
    cache.set(_key_cache_key(api_key.digest), REVOKED, KEY_CACHE_SECONDS)
    _remembered_keys.pop(api_key.digest, None)


# A live key and its vendor are remembered this long in the default cache (Redis in production,
# shared by every web process), so a request does not look its key up in the database. Revoking
# a key, approving or suspending its vendor forgets it at once; the TTL bounds anything else.
KEY_CACHE_SECONDS = 30
REVOKED = "revoked"
# And this long by each web process, so that most requests spare the cache's round trip too
# (a vendor's integration calls many times a second). The process that revokes a key, or
# approves or suspends its vendor, forgets it at once; every other process refuses a revoked key,
# or a suspended vendor, within these seconds. Other changes to the vendor show within
# KEY_CACHE_SECONDS + KEY_MEMORY_SECONDS.
KEY_MEMORY_SECONDS = 3.0
KEY_MEMORY_MAX = 10_000  # distinct keys remembered before the memory is emptied
_remembered_keys: dict[str, tuple[float, ApiKey]] = {}  # digest: (forgotten at, monotonic; key)


def _key_cache_key(digest: str) -> str:
    return f"vendors:api-key:{digest}"


def _forget_keys(*, vendor_id: int) -> None:
    digests = list(ApiKey.objects.filter(vendor_id=vendor_id).values_list("digest", flat=True))
    cache.delete_many([_key_cache_key(digest) for digest in digests])
    for digest in digests:
        _remembered_keys.pop(digest, None)


def forget_remembered_keys() -> None:
    """Empty this process's memory of keys (tests start each from nothing)."""
    _remembered_keys.clear()


def authenticate_key(raw_key: str) -> ApiKey | None:
    """The live key for ``raw_key`` (with its vendor), or None. Its use is recorded at most once
    a minute (``last_used_at``). Each call returns its own copy of the key and its vendor."""
    digest = _digest(raw_key)
    cache_key = _key_cache_key(digest)
    remembered = _remembered_keys.get(digest)
    api_key: ApiKey | None
    if remembered is not None and remembered[0] > time.monotonic():
        api_key = remembered[1]
    else:
        cached = cache.get(cache_key)
        if cached == REVOKED:
            _remembered_keys.pop(digest, None)
            return None
        api_key = cached if isinstance(cached, ApiKey) else None
        if api_key is None:
            api_key = ApiKey.objects.select_related("vendor").filter(digest=digest, revoked_at__isnull=True).first()
            if api_key is None:
                _remembered_keys.pop(digest, None)
                return None
            cache.add(cache_key, api_key, KEY_CACHE_SECONDS)
        if len(_remembered_keys) >= KEY_MEMORY_MAX:
            _remembered_keys.clear()
        _remembered_keys[digest] = (time.monotonic() + KEY_MEMORY_SECONDS, api_key)
    now = timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
        cache.set(cache_key, api_key, KEY_CACHE_SECONDS)
    # A copy, so that nothing a request does to its key or vendor reaches the process's memory.
    own = _copy_of(api_key)
    own.vendor = _copy_of(api_key.vendor)
    return own


def _copy_of(instance: ModelT) -> ModelT:
    """A shallow copy of a model instance with a state of its own (no related object cached):
    what copy.copy makes, in a quarter of the time (it goes through pickling's protocol)."""
    copied = object.__new__(type(instance))
    copied.__dict__.update(instance.__dict__)
    state = copied._state = ModelState()
    state.db, state.adding = instance._state.db, instance._state.adding
    return copied


# Subscriptions ---------------------------------------------------------------------------


def clean_subscription(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    cleaned = dict(data)
    categories = list(data.get("categories") or [])
    regions = list(data.get("regions") or [])
    if not categories:
        errors["categories"] = "Choose at least one category."
    if not regions:
        errors["regions"] = "Choose at least one region."
    keywords = data.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        errors["keywords"] = "Keywords must be a list of words or phrases."
    elif len(keywords) > MAX_KEYWORDS:
        errors["keywords"] = f"At most {MAX_KEYWORDS} keywords."
    else:
        keywords = [k.strip() for k in keywords if k.strip()]
        language = data.get("language") or "en"
        if any(not keyword_stems(k, language) for k in keywords):
            errors["keywords"] = "Each keyword needs at least one letter or digit."
        elif any(len(k) > MAX_STEM for k in keywords):
            errors["keywords"] = f"Keep each keyword under {MAX_STEM} characters."
        cleaned["keywords"] = list(dict.fromkeys(keywords))
    if categories and "attribute_filters" in data:
        try:
            cleaned["attribute_filters"] = clean_filters(
                categories_filter_schema(categories), data.get("attribute_filters")
            )
        except ValidationError as error:
            errors.update(prefixed_errors("attribute_filters", error))
    if data.get("min_budget") is not None:
        try:
            cleaned["min_budget_currency"] = clean_currency(
                data.get("min_budget_currency") or "", field="min_budget_currency"
            )
        except ValidationError as error:
            errors.update(error.message_dict)
    else:
        cleaned["min_budget_currency"] = ""
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def save_subscription(*, vendor: Vendor, subscription: Subscription | None = None, **data: Any) -> Subscription:
    """Create or change a subscription and re-index it. ``data`` holds model fields, with
    ``categories`` and ``regions`` as lists of model instances."""
    if subscription is not None:
        current = {
            "categories": list(subscription.categories.all()),
            "regions": list(subscription.regions.all()),
            "keywords": subscription.keywords,
            "language": subscription.language,
            "attribute_filters": subscription.attribute_filters,
            "min_budget": subscription.min_budget,
            "min_budget_currency": subscription.min_budget_currency,
        }
        data = {**current, **data}
    else:
        data.setdefault("attribute_filters", {})
    cleaned = clean_subscription(data)
    categories = cleaned.pop("categories")
    regions = cleaned.pop("regions")
    subscription = subscription or Subscription(vendor=vendor)
    for field, value in cleaned.items():
        setattr(subscription, field, value)
    subscription.save()
    subscription.categories.set(categories)
    subscription.regions.set(regions)
    index_subscriptions([subscription])
    return subscription


def delete_subscription(*, subscription: Subscription) -> None:
    subscription.delete()


@lru_cache(maxsize=65_536)
def keyword_index_stem(keyword: str, language: str) -> str:
    """The stem a keyword is listed under in the index (cached: stemming is the slow part)."""
    return index_stem(keyword_stems(keyword, language))


# The columns of a SubscriptionKey row, in the order ``subscription_key_rows`` gives them.
SUBSCRIPTION_KEY_FIELDS = ("category_id", "stem", "region_lft")


def subscription_key_rows(
    keywords: Iterable[str], language: str, category_ids: Iterable[int], region_lfts: Iterable[int]
) -> list[tuple[int, str, int]]:
    """The index rows of a subscription as tuples of ``SUBSCRIPTION_KEY_FIELDS``: one per
    (category, region, keyword's index stem), or with an empty stem when it has no keywords."""
    stems = sorted({keyword_index_stem(k, language) for k in keywords}) or [""]
    region_lfts = list(region_lfts)
    return [(category_id, stem, lft) for category_id in category_ids for lft in region_lfts for stem in stems]


def subscription_keys(
    subscription: Subscription, categories: Iterable[Category], regions: Iterable[Region]
) -> list[SubscriptionKey]:
    rows = subscription_key_rows(
        subscription.keywords, subscription.language, [c.pk for c in categories], [r.lft for r in regions]
    )
    return [
        SubscriptionKey(subscription=subscription, **dict(zip(SUBSCRIPTION_KEY_FIELDS, row, strict=True)))
        for row in rows
    ]


def index_subscriptions(subscriptions: Iterable[Subscription]) -> int:
    """Rebuild the inverted-index rows of ``subscriptions`` (see ``broker.pipeline.matching``)."""
    subscriptions = list(subscriptions)
    SubscriptionKey.objects.filter(subscription__in=subscriptions).delete()
    keys = []
    for subscription in subscriptions:
        rows = subscription_keys(subscription, subscription.categories.all(), subscription.regions.all())
        if len(rows) > MAX_SUBSCRIPTION_KEYS:
            raise ValidationError(
                {"keywords": "Too many categories × regions × keywords; split the subscription in two."}
            )
        keys.extend(rows)
    SubscriptionKey.objects.bulk_create(keys, batch_size=5000)
    return len(keys)


def reindex_all_subscriptions() -> int:
    """After regions are renumbered, every key must be rebuilt."""
    total = 0
    queryset = Subscription.objects.prefetch_related("categories", "regions").order_by("pk")
    batch: list[Subscription] = []
    for subscription in queryset.iterator(chunk_size=500):
        batch.append(subscription)
        if len(batch) == 500:
            total += index_subscriptions(batch)
            batch = []
    return total + index_subscriptions(batch)


# The inbox -------------------------------------------------------------------------------


def deliver(*, intent: Intent, matches: Iterable[tuple[int, UUID | str | None]]) -> dict[int, str]:
    """Put ``intent`` in the inbox of each matched vendor, ``matches`` being (vendor id, the
    subscription that matched: its id or the id's text) pairs, with the customer's handle for
    each vendor made first.

    Idempotent: a delivery is unique per intent and vendor, so a second run adds nothing.
    Returns the customer's handle for each of these vendors (what their views of it carry).

    Where the handles are read and made in one statement (PostgreSQL, the usual audience of a
    few dozen vendors) the deliveries are written by the same statement: for 50 vendors the
    round trips (and the savepoint around ``insert_new``'s COPY) cost the worker and the
    database more than the rows.
    """
    matches = list(dict(matches).items())  # one per vendor
    vendor_ids = [vendor_id for vendor_id, _ in matches]
    now = timezone.now()
    if in_one_statement(len(matches)):
        handles = _deliver_in_one_statement(intent=intent, matches=matches, now=now)
        return ensure_pseudonyms(customer_id=intent.customer_id, vendor_ids=vendor_ids, known=handles)
    handles = ensure_pseudonyms(customer_id=intent.customer_id, vendor_ids=vendor_ids)
    insert_new(
        Delivery,
        ("intent", "vendor", "subscription", "created_at"),
        [(intent.pk, vendor_id, subscription_id, now) for vendor_id, subscription_id in matches],
    )
    return handles


def _deliver_in_one_statement(
    *, intent: Intent, matches: list[tuple[int, UUID | str | None]], now: datetime
) -> dict[int, str]:
    """The deliveries, written by a data-modifying CTE added to the statement that reads and
    makes the handles (``read_or_make_pseudonyms_sql``; PostgreSQL only). Returns the handles it
    read or made: a pair another transaction was making at the same moment is left for
    ``ensure_pseudonyms``; the deliveries are all written (a second run skips those that exist).

    The values travel as parameters bound by the server and the statement is prepared once per
    connection (``execute_prepared``): its text is the same for every request, so PostgreSQL
    parses and analyses it once, and the arrays are sent as values rather than rendered into
    the text (Django's cursor binds on the client: 150 quoted literals in a statement parsed
    anew for every request)."""
    if not matches:
        return {}
    database = connections[router.db_for_write(Delivery)]
    table = database.ops.quote_name(Delivery._meta.db_table)
    deliveries = f""",
        delivered AS (
            INSERT INTO {table} (intent_id, vendor_id, subscription_id, created_at)
            SELECT %s::uuid, d.vendor_id, d.subscription_id, %s::timestamptz
            FROM unnest(%s::bigint[], %s::uuid[]) AS d(vendor_id, subscription_id)
            ON CONFLICT DO NOTHING
        )"""  # noqa: S608 (the table name is the model's; every value is a parameter)
    vendor_ids = [vendor_id for vendor_id, _ in matches]
    params: list[Any] = [
        *read_or_make_pseudonyms_params(intent.customer_id, vendor_ids, now),
        intent.pk,
        now,
        vendor_ids,
        uniform_ids([subscription_id for _, subscription_id in matches]),
    ]
    database.ensure_connection()
    with psycopg.Cursor(database.connection) as cursor:
        execute_prepared(cursor, read_or_make_pseudonyms_sql(database, then=deliveries), params)
        return dict(cursor.fetchall())


def mark_seen(*, vendor: Vendor, intent_id: UUID) -> None:
    Delivery.objects.filter(vendor=vendor, intent_id=intent_id, seen_at__isnull=True).update(seen_at=timezone.now())


def pass_intent(*, vendor: Vendor, intent_id: UUID, reason: str = "") -> None:
    """The vendor is not interested, with a reason from the short list (she sees them counted);
    recorded on its delivery."""
    if reason and reason not in Delivery.PassReason.values:
        raise ValidationError({"reason": f"Choose one of: {', '.join(Delivery.PassReason.values)}."})
    now = timezone.now()
    with transaction.atomic():
        if Delivery.objects.filter(vendor=vendor, intent_id=intent_id, passed_at__isnull=True).update(
            passed_at=now, seen_at=now, pass_reason=reason
        ):
            behaviour_changed(vendor_ids=[vendor.pk], dispatch=False)  # taken with the others


def restore_deliveries(*, intent: Intent, vendor_ids: Iterable[int]) -> int:
    """Put an amended request back in the inboxes of vendors it matches again."""
    return Delivery.objects.filter(intent=intent, vendor_id__in=list(vendor_ids)).update(withdrawn_at=None)


def withdraw_deliveries(*, intent: Intent, vendor_ids: Iterable[int]) -> int:
    """Take an amended request out of the inboxes of vendors it no longer matches."""
    return Delivery.objects.filter(intent=intent, vendor_id__in=list(vendor_ids), withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )


# Bids ------------------------------------------------------------------------------------


def _clean_bid(
    intent: Intent, *, amount: Decimal, currency: str, offered_attributes: Any, valid_until: datetime | None
) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    try:
        cleaned["currency"] = clean_currency(currency)
    except ValidationError as error:
        errors.update(error.message_dict)
    else:
        if intent.currency and cleaned["currency"] != intent.currency:
            errors["currency"] = f"This request is in {intent.currency}; bid in {intent.currency}."
    if amount is None or amount < 0:
        errors["amount"] = "Enter an amount of zero or more."
    try:
        schema = remembered_category_schema(intent.category)
        cleaned["offered_attributes"] = clean_offer_attributes(schema, offered_attributes)
    except ValidationError as error:
        errors.update(prefixed_errors("offered_attributes", error))
    if valid_until is not None and valid_until <= timezone.now():
        errors["valid_until"] = "This must be in the future."
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def place_bid(
    *,
    vendor: Vendor,
    intent_id: UUID,
    amount: Decimal,
    currency: str,
    message: str = "",
    offered_attributes: Any = None,
    valid_until: datetime | None = None,
) -> Bid:
    """Bid on a delivered, open intent. (A retried request is answered by the API's
    ``Idempotency-Key`` handling, before it gets here.)"""
    intent = lock_intent(intent_id=intent_id)
    standing = None
    if intent is not None:
        standing = bid_standing(intent_id=intent.pk, vendor_id=vendor.pk, customer_id=intent.customer_id)
    if intent is None or standing is None:
        raise NotFound("No such request in your inbox.", field="intent")
    if not intent.is_open or intent.expires_at <= timezone.now():
        raise IntentClosed("This request is closed to new bids.", field="intent")
    if standing.bidding:
        raise AlreadyBidding("You already have an active bid on this request; revise it instead.", field="intent")
    cleaned = _clean_bid(
        intent, amount=amount, currency=currency, offered_attributes=offered_attributes, valid_until=valid_until
    )
    clauses = agree_by_bidding(intent=intent, vendor=vendor, standing=standing)
    try:
        bid = Bid.objects.create(
            intent=intent,
            vendor=vendor,
            amount=amount,
            message=message,
            valid_until=valid_until,
            terms_accepted=legacy_terms(clauses),
            **cleaned,
        )
    except IntegrityError:
        # A concurrent request for the same intent won the race. No savepoint around the
        # insert: the error ends this transaction, which the exception rolls back whole.
        raise AlreadyBidding("You already have an active bid on this request.", field="intent") from None
    bid._prefetched_objects_cache = {"photos": BidPhoto.objects.none()}  # type: ignore[attr-defined]  # none yet
    bid_received(intent=intent, vendor_name=vendor.name)
    behaviour_changed(vendor_ids=[vendor.pk], dispatch=False)  # an answer, maybe its first offer; taken with the others
    return bid


@transaction.atomic
def revise_bid(*, bid: Bid, **changes: Any) -> Bid:
    """Change an active bid; what it said before is kept as a revision."""
    bid = Bid.objects.select_for_update().select_related("intent__category").get(pk=bid.pk)
    if bid.status != Bid.Status.ACTIVE:
        raise BidNotActive(f"This bid is {bid.status}; only an active bid can be revised.")
    if not bid.intent.is_open:
        raise IntentClosed("This request is closed; the bid can no longer change.")
    merged = {
        "amount": bid.amount,
        "currency": bid.currency,
        "offered_attributes": bid.offered_attributes,
        "valid_until": bid.valid_until,
        **{k: v for k, v in changes.items() if k != "message"},
    }
    cleaned = _clean_bid(bid.intent, **merged)
    BidRevision.objects.create(
        bid=bid,
        amount=bid.amount,
        currency=bid.currency,
        message=bid.message,
        offered_attributes=bid.offered_attributes,
        valid_until=bid.valid_until,
    )
    bid.amount = merged["amount"]
    bid.valid_until = merged["valid_until"]
    bid.message = changes.get("message", bid.message)
    for field, value in cleaned.items():
        setattr(bid, field, value)
    bid.save()
    answer_counter(bid=bid)
    return bid
