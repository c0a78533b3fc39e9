"""Reads on the vendor side: the inbox, one delivered intent, bids, threads, and the candidate
subscriptions the matcher checks."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
from django.db import connections, router
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    prefetch_related_objects,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.connection import ConnectionProxy

from broker.core.errors import NotFound
from broker.core.model_rows import ModelColumns
from broker.core.statements import binary_cursor, execute_prepared
from intents.models import Agreement, Category, Intent
from vendors.models import (
    AgreementAnswer,
    AgreementRecord,
    ApiKey,
    AudienceChoice,
    Bid,
    BidCounter,
    BidPhoto,
    BidRevision,
    Block,
    DealOutcome,
    Delivery,
    IdentityReveal,
    Message,
    Pseudonym,
    Subscription,
    SubscriptionKey,
    Vendor,
    VendorInvitation,
    VendorMembership,
    WebhookAttempt,
    WebhookEndpoint,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The inbox ---------------------------------------------------------------------------------


# What a vendor's view of an intent reads (broker.pipeline.vendor_view.intent_for_vendor), and
# no more: not the category's attribute schema, nor the intent's audience and removal fields.
INTENT_VIEW_FIELDS = tuple(
    f"intent__{name}"
    for name in (
        "id",
        "customer_id",
        "title",
        "details",
        "language",
        "category__slug",
        "attributes",
        "region__code",
        "budget_max",
        "currency",
        "terms",
        "agreement__code",
        "agreement__version",
        "agreement__title",
        "agreement__summary",
        "agreement__clauses",
        "status",
        "format",
        "sealed_until",
        "revision",
        "created_at",
        "expires_at",
    )
)


def vendor_inbox(
    *, vendor: Vendor, status: str | None = None, category: Category | None = None, since: datetime | None = None
) -> QuerySet[Delivery]:
    """The vendor's deliveries, newest first (by id, the ``delivery_inbox_by_id`` index), with what its
    view of their intents needs."""
    deliveries = (
        Delivery.objects.filter(vendor=vendor)
        .select_related("intent__category", "intent__region", "intent__agreement")
        .only("id", "vendor_id", "created_at", *INTENT_VIEW_FIELDS)
    )
    if status:
        deliveries = deliveries.filter(intent__status=status)
    if category is not None:
        deliveries = in_category(deliveries, category)
    if since is not None:
        deliveries = deliveries.filter(created_at__gte=since)
    return deliveries.order_by("-id")


def in_category(deliveries: QuerySet[Delivery], category: Category) -> QuerySet[Delivery]:
    """The deliveries of intents in ``category`` or its descendants. By the categories' ids (a
    short list from the taxonomy), so that PostgreSQL walks the inbox's index and checks each
    intent's ``category_id``, rather than joining the categories' paths."""
    ids = list(Category.objects.filter(path__startswith=category.path).values_list("id", flat=True))
    return deliveries.filter(intent__category_id__in=ids)


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


def inbox_view_facts(*, vendor_id: int) -> dict[str, Any]:
    """Annotations of an inbox's deliveries with the rest of the vendor's view of each intent,
    as subqueries of the inbox's one query rather than one query each: its handle for the
    customer (``view_handle``), whether she told it who she is (``view_revealed``), and the
    market of active offers (``view_offers``, ``view_best_amount``, ``view_best_currency``: the
    lowest amount, in whatever currency, as ``market`` finds it)."""
    customer = OuterRef("intent__customer_id")
    active = Bid.objects.filter(intent_id=OuterRef("intent_id"), status=Bid.Status.ACTIVE)
    best = active.order_by("amount", "currency")
    return {
        "view_handle": Subquery(
            Pseudonym.objects.filter(vendor_id=vendor_id, customer_id=customer).values("handle")[:1]
        ),
        "view_revealed": Exists(IdentityReveal.objects.filter(vendor_id=vendor_id, customer_id=customer)),
        "view_offers": Subquery(active.order_by().values("intent_id").annotate(n=Count("id")).values("n")[:1]),
        "view_best_amount": Subquery(best.values("amount")[:1]),
        "view_best_currency": Subquery(best.values("currency")[:1]),
    }


def inbox_delivery(
    *,
    vendor: Vendor,
    intent_id: UUID | str,
    annotations: dict[str, Any] | None = None,
    deliveries: QuerySet[Delivery] | None = None,
) -> Delivery:
    """The delivery of an intent to ``vendor``, with what its view of the intent needs and when
    the vendor first saw it (and ``annotations``, ``inbox_view_facts`` say); ``NotFound`` as
    ``delivered_intent``. ``deliveries``: ``inbox_deliveries``' queryset for this vendor, if the
    caller keeps one built."""
    if deliveries is None:
        deliveries = inbox_deliveries(vendor=vendor, annotations=annotations)
    delivery = deliveries.filter(intent_id=intent_id).first()
    if delivery is None:
        raise NotFound("No such request in your inbox.")
    return delivery


def inbox_deliveries(*, vendor: Vendor, annotations: dict[str, Any] | None = None) -> QuerySet[Delivery]:
    """The vendor's deliveries as ``inbox_delivery`` reads one of them."""
    return (
        Delivery.objects.filter(vendor=vendor)
        .select_related("intent__category", "intent__region", "intent__agreement")
        .only("id", "seen_at", *INTENT_VIEW_FIELDS)
        .annotate(**(annotations or {}))
    )


def is_delivered(*, intent_id: UUID | str, vendor_id: int, current: bool = False) -> bool:
    """Whether the intent reached the vendor (``current``: and is still in its inbox, not
    withdrawn after she amended it)."""
    deliveries = Delivery.objects.filter(intent_id=intent_id, vendor_id=vendor_id)
    if current:
        deliveries = deliveries.filter(withdrawn_at__isnull=True)
    return deliveries.exists()


@dataclass(frozen=True)
class BidStanding:
    """Where a vendor stands on a request in its inbox, as a new bid needs it: whether it bids
    already, the clauses of the agreement reached (None: none yet), its answer to her terms and
    her response to its proposal (None: no answer), and her handle for it (None: none yet)."""

    bidding: bool
    agreed_clauses: dict[str, Any] | None
    answer: str | None
    response: str | None
    handle: str | None


def bid_standing(*, intent_id: UUID | str, vendor_id: int, customer_id: int) -> BidStanding | None:
    """The vendor's standing on the request (``customer_id``: hers), or None when the request is
    not in its inbox (never delivered, or withdrawn after she amended it). One query, the
    delivery row with the rest as subqueries: a bid reads it under the request's lock, after it
    was taken, so it sees what a bid or an answer committed just before (a read in the same
    statement as the lock would see the rows as they were before it waited).

    Hand-written (plain SQL both backends run): the ORM spent more time building these five
    subqueries, on every bid, than the database spends running them."""
    connection = connections[router.db_for_read(Delivery)]
    intent_id = intent_id if isinstance(intent_id, UUID) else UUID(str(intent_id))
    with connection.cursor() as cursor:
        cursor.execute(_standing_sql(), {
            "intent": Delivery._meta.get_field("intent").get_db_prep_value(intent_id, connection),
            "vendor": vendor_id,
            "customer": customer_id,
            "active": Bid.Status.ACTIVE.value,
        })  # fmt: skip
        row = cursor.fetchone()
    if row is None:
        return None
    bidding, clauses, answer, response, handle = row
    return BidStanding(
        bidding=bool(bidding),
        agreed_clauses=None if clauses is None else json.loads(clauses),  # JSON comes as text on both backends
        answer=answer,
        response=response,
        handle=handle,
    )


@cache
def _standing_sql() -> str:
    tables = {model.__name__: model._meta.db_table for model in (Delivery, Bid, AgreementRecord, AgreementAnswer)}
    pair = "x.intent_id = d.intent_id AND x.vendor_id = d.vendor_id"
    return f"""
        SELECT
            EXISTS (SELECT 1 FROM {tables["Bid"]} x WHERE {pair} AND x.status = %(active)s),
            (SELECT x.clauses FROM {tables["AgreementRecord"]} x WHERE {pair}),
            (SELECT x.answer FROM {tables["AgreementAnswer"]} x WHERE {pair}),
            (SELECT x.response FROM {tables["AgreementAnswer"]} x WHERE {pair}),
            (SELECT x.handle FROM {Pseudonym._meta.db_table} x WHERE x.customer_id = %(customer)s
                AND x.vendor_id = d.vendor_id)
        FROM {tables["Delivery"]} d
        WHERE d.intent_id = %(intent)s AND d.vendor_id = %(vendor)s AND d.withdrawn_at IS NULL
    """  # noqa: S608 (table names only)


def delivered_vendor_ids(
    *, intent_id: UUID | str, current: bool = True, vendor_range: tuple[int, int] | None = None
) -> list[int]:
    """Every vendor the intent reached (``current``: whose inbox still holds it); with
    ``vendor_range`` (first, last), only the vendors whose ids lie in it, both ends included."""
    deliveries = Delivery.objects.filter(intent_id=intent_id)
    if current:
        deliveries = deliveries.filter(withdrawn_at__isnull=True)
    if vendor_range is not None:
        deliveries = deliveries.filter(vendor_id__gte=vendor_range[0], vendor_id__lte=vendor_range[1])
    return list(deliveries.values_list("vendor_id", flat=True))


def vendors_reached(*, intent_ids: Iterable[UUID | str]) -> set[int]:
    """Every vendor any of these requests was delivered to."""
    return set(Delivery.objects.filter(intent_id__in=list(intent_ids)).values_list("vendor_id", flat=True))


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
    region_overlap = _region_overlap(region_lft, region_rgt, region_ancestor_lfts)
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


# The columns of a row of ``match_candidates``: a candidate's, then how many intents its daily
# cap has already counted today (0 without a cap).
MATCH_FIELDS = (*CANDIDATE_FIELDS, "used_today")

# ``match_candidates`` on PostgreSQL: one statement, prepared once per connection and planned on
# each call for its values (``broker.core.statements.execute_prepared``). The keys are arrays, so the statement's text
# is the same for every request; the vendors blocked on either
# side and the daily caps' counts are read in the same round trip. The index look-up and the
# blocks are init plans (``ARRAY(SELECT ...)``), so the planner fetches the few candidates by
# primary key instead of joining (it chose a sequential scan of every subscription for a join).
_MATCH_SQL = f"""
SELECT s.id, s.vendor_id, s.keywords::text, s.language, s.attribute_filters::text, s.min_budget,
       s.min_budget_currency, s.daily_cap,
       CASE WHEN s.daily_cap IS NULL THEN 0 ELSE (
           SELECT count(*) FROM {Delivery._meta.db_table} d
           WHERE d.subscription_id = s.id AND d.created_at >= %(since)s AND d.intent_id <> %(intent)s
       ) END
FROM {Subscription._meta.db_table} s
JOIN {Vendor._meta.db_table} v ON v.id = s.vendor_id
WHERE s.id = ANY(ARRAY(
    SELECT DISTINCT k.subscription_id FROM {SubscriptionKey._meta.db_table} k
    WHERE k.category_id = ANY(%(categories)s::bigint[]) AND k.stem = ANY(%(stems)s::text[])
      AND ((k.region_lft >= %(lft)s AND k.region_lft <= %(rgt)s) OR k.region_lft = ANY(%(ancestors)s::integer[]))
))
AND s.active AND v.status = %(approved)s
AND s.vendor_id <> ALL(ARRAY(SELECT b.vendor_id FROM {Block._meta.db_table} b WHERE b.customer_id = %(customer)s))
ORDER BY s.vendor_id, s.created_at, s.id
"""  # noqa: S608 (table names only)


def match_candidates(
    *,
    category_ids: Sequence[int],
    stems: Iterable[str],
    region_lft: int,
    region_rgt: int,
    region_ancestor_lfts: Sequence[int],
    customer_id: int,
    since: datetime,
    excluding_intent: UUID,
) -> list[tuple[Any, ...]]:
    """The matcher's one read: ``candidate_subscriptions`` without the vendors blocked on either
    side (``vendors.relationships.blocked_vendor_ids``), each row with its daily cap's count
    (``deliveries_today``) appended, as rows of ``MATCH_FIELDS``.

    On PostgreSQL a single statement, run on the driver's own cursor with server-side
    parameters, so the ORM is not paid again for every request (it was most of a match's fixed
    cost), and prepared once per connection (``broker.core.statements.execute_prepared``); elsewhere the ORM reads it
    in three."""
    connection = connections[router.db_for_read(Subscription)]
    if connection.vendor != "postgresql":
        return _match_candidates_orm(
            category_ids,
            [*stems, ""],
            region_lft,
            region_rgt,
            region_ancestor_lfts,
            customer_id,
            since,
            excluding_intent,
        )
    sql, params = match_candidates_statement(
        category_ids=category_ids,
        stems=stems,
        region_lft=region_lft,
        region_rgt=region_rgt,
        region_ancestor_lfts=region_ancestor_lfts,
        customer_id=customer_id,
        since=since,
        excluding_intent=excluding_intent,
    )
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        execute_prepared(cursor, sql, params)
        return cursor.fetchall()


def match_candidates_statement(
    *,
    category_ids: Sequence[int],
    stems: Iterable[str],
    region_lft: int,
    region_rgt: int,
    region_ancestor_lfts: Sequence[int],
    customer_id: int,
    since: datetime,
    excluding_intent: UUID,
) -> tuple[str, dict[str, Any]]:
    """``match_candidates``'s PostgreSQL statement and its parameters (bench/matching.py
    --explain prints its plan)."""
    params = {
        "categories": list(category_ids),
        "stems": [*stems, ""],
        "lft": region_lft,
        "rgt": region_rgt,
        "ancestors": list(region_ancestor_lfts),
        "approved": Vendor.Status.APPROVED.value,
        "customer": customer_id,
        "since": since,
        "intent": excluding_intent,
    }
    return _MATCH_SQL, params


def _match_candidates_orm(
    category_ids: Sequence[int],
    stems: Sequence[str],
    region_lft: int,
    region_rgt: int,
    region_ancestor_lfts: Sequence[int],
    customer_id: int,
    since: datetime,
    excluding_intent: UUID,
) -> list[tuple[Any, ...]]:
    rows = candidate_subscriptions(
        category_ids=category_ids,
        stems=[stem for stem in stems if stem],
        region_lft=region_lft,
        region_rgt=region_rgt,
        region_ancestor_lfts=region_ancestor_lfts,
    )
    blocked = set(Block.objects.filter(customer_id=customer_id).values_list("vendor_id", flat=True))
    kept = [row for row in rows if row[1] not in blocked]
    capped = [row[0] for row in kept if row[7] is not None]
    used = deliveries_today(capped, since=since, excluding_intent=excluding_intent)
    return [(*row, used.get(row[0], 0)) for row in kept]


def _region_overlap(region_lft: int, region_rgt: int, region_ancestor_lfts: Sequence[int]) -> Q:
    overlap = Q(region_lft__gte=region_lft, region_lft__lte=region_rgt)
    if region_ancestor_lfts:
        overlap |= Q(region_lft__in=region_ancestor_lfts)
    return overlap


def subscription_coverage(
    *,
    subscription_ids: Sequence[UUID],
    category_ids: Sequence[int],
    region_lft: int,
    region_rgt: int,
    region_ancestor_lfts: Sequence[int],
) -> list[tuple[UUID, int, int]]:
    """(subscription id, category id, region lft) for each of the intent's categories and
    regions these subscriptions cover, from the index: what the matcher's fit is made of."""
    if not subscription_ids:
        return []
    keys = SubscriptionKey.objects.filter(
        _region_overlap(region_lft, region_rgt, region_ancestor_lfts),
        subscription_id__in=list(subscription_ids),
        category_id__in=list(category_ids),
    )
    return list(keys.values_list("subscription_id", "category_id", "region_lft").distinct())


def serving_subscriptions(*, vendor_ids: Iterable[int], category_ids: Sequence[int]) -> dict[int, UUID]:
    """For each of these vendors that serves the category (is approved and has an active
    subscription to it or to an ancestor: ``category_ids``), its oldest such subscription."""
    vendor_ids = set(vendor_ids)
    if not vendor_ids:
        return {}
    rows = (
        Subscription.objects.filter(
            vendor_id__in=vendor_ids,
            active=True,
            vendor__status=Vendor.Status.APPROVED,
            categories__in=list(category_ids),
        )
        .order_by("vendor_id", "created_at", "id")
        .values_list("vendor_id", "id")
    )
    serving: dict[int, UUID] = {}
    for vendor_id, subscription_id in rows:
        serving.setdefault(vendor_id, subscription_id)
    return serving


# Who hears her -----------------------------------------------------------------------------


def audience_choices(*, intent_id: UUID | str) -> dict[int, str]:
    """The vendors she named for this request, by vendor id: ``invite`` or ``exclude``."""
    return dict(AudienceChoice.objects.filter(intent_id=intent_id).values_list("vendor_id", "kind"))


def audience_named_by(*, customer: User) -> dict[UUID, dict[str, list[str]]]:
    """The vendors she named for each of her requests, by request id: ``invited`` and
    ``excluded`` vendor names (her export)."""
    named: dict[UUID, dict[str, list[str]]] = {}
    rows = AudienceChoice.objects.filter(intent__customer=customer).order_by("vendor__name")
    for intent_id, kind, name in rows.values_list("intent_id", "kind", "vendor__name"):
        entry = named.setdefault(intent_id, {"invited": [], "excluded": []})
        entry["invited" if kind == AudienceChoice.Kind.INVITE else "excluded"].append(name)
    return named


def history_vendor_ids(*, customer_id: int) -> set[int]:
    """Every vendor she has dealt with: one her requests reached, one that bid on them, one she
    exchanged messages with."""
    mine = Intent.objects.filter(customer_id=customer_id).values("pk")
    # order_by(): the models' default orderings would put ORDER BY inside the UNION, which
    # SQLite refuses.
    delivered = Delivery.objects.filter(intent_id__in=mine).order_by().values_list("vendor_id", flat=True)
    bid = Bid.objects.filter(intent_id__in=mine).order_by().values_list("vendor_id", flat=True)
    messaged = Message.objects.filter(intent_id__in=mine).order_by().values_list("vendor_id", flat=True)
    return set(delivered.union(bid, messaged))


def history_vendors(*, customer: User) -> list[Vendor]:
    """The approved vendors of her history (``history_vendor_ids``), by name: the ones she may
    invite to, or exclude from, a new request."""
    return list(
        Vendor.objects.filter(
            pk__in=history_vendor_ids(customer_id=customer.pk), status=Vendor.Status.APPROVED
        ).order_by("name", "pk")
    )


def audience_of(*, intent: Intent, offered_vendor_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Who her request reached and what each did with it, for her eyes only: per vendor (its id
    and name) whether it still has it, opened it, passed (with the reason's label) or offered, and
    whether she invited it. Vendors that had it and lost it after an amendment are listed too.

    ``offered_vendor_ids``: the vendors with a bid on it that is not withdrawn, which the page
    has read already (``intent_bids``). Whether she invited each is read in the same query as
    the deliveries, as plain rows: one query for the list; on PostgreSQL a hand-written one (the
    ORM spent about 1.5 ms of CPU building it, more than PostgreSQL spends running it), elsewhere
    the ORM's (``audience_rows_orm``), which a test compares it with."""
    offered = set(offered_vendor_ids)
    labels = dict(Delivery.PassReason.choices)
    return [
        {
            "vendor_id": vendor_id,
            "vendor_name": name,
            "delivered_at": created_at,
            "withdrawn": withdrawn_at is not None,
            "seen_at": seen_at,
            "passed_at": passed_at,
            "pass_reason": labels.get(pass_reason, "no reason given") if passed_at else "",
            "offered": vendor_id in offered,
            "invited": invited_it,
        }
        for vendor_id, name, created_at, withdrawn_at, seen_at, passed_at, pass_reason, invited_it in audience_rows(
            intent=intent
        )
    ]


def audience_rows(*, intent: Intent) -> list[tuple[Any, ...]]:
    """``audience_of``'s rows: per delivery its vendor's id and name, when it was delivered,
    withdrawn, seen and passed, the reason and whether she invited the vendor; by vendor name."""
    connection = connections[router.db_for_read(Delivery)]
    if connection.vendor != "postgresql":
        return audience_rows_orm(intent=intent)
    with binary_cursor(connection.alias) as cursor:
        cursor.execute(_audience_sql(), [AudienceChoice.Kind.INVITE.value, intent.pk])
        return list(cursor.fetchall())


@cache
def _audience_sql() -> str:
    tables = {model.__name__: model._meta.db_table for model in (Delivery, Vendor, AudienceChoice)}
    return f"""
        SELECT d.vendor_id, v.name, d.created_at, d.withdrawn_at, d.seen_at, d.passed_at, d.pass_reason,
               EXISTS (SELECT 1 FROM {tables["AudienceChoice"]} c
                       WHERE c.intent_id = d.intent_id AND c.vendor_id = d.vendor_id AND c.kind = %s)
        FROM {tables["Delivery"]} d
        JOIN {tables["Vendor"]} v ON v.id = d.vendor_id
        WHERE d.intent_id = %s
        ORDER BY v.name, d.vendor_id
    """  # noqa: S608 (table names only)


def audience_rows_orm(*, intent: Intent) -> list[tuple[Any, ...]]:
    """``audience_rows`` through the ORM: what other databases run."""
    invited = AudienceChoice.objects.filter(
        intent_id=OuterRef("intent_id"), vendor_id=OuterRef("vendor_id"), kind=AudienceChoice.Kind.INVITE
    )
    deliveries = (
        Delivery.objects.filter(intent=intent)
        .annotate(invited=Exists(invited))
        .order_by("vendor__name", "vendor_id")
        .values_list(
            "vendor_id", "vendor__name", "created_at", "withdrawn_at", "seen_at", "passed_at", "pass_reason", "invited"
        )
    )
    return list(deliveries)


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
        .annotate(has_photos=Exists(BidPhoto.objects.filter(bid_id=OuterRef("pk"))))
        .order_by("created_at")
    )
    for bid in bids:
        latest[(bid.vendor_id, bid.intent_id)] = bid  # the latest wins
    prefetch_photos(latest.values())
    return latest


def prefetch_photos(bids: Iterable[Bid]) -> None:
    """Load the photos of ``bids`` (annotated ``has_photos``) as ``prefetch_related`` would, but
    with no query when none of them has any, as most pages of an inbox."""
    _prefetch_present(bids, photos="has_photos")


_RELATED: dict[str, type[BidPhoto] | type[BidRevision] | type[BidCounter]] = {
    "photos": BidPhoto,
    "revisions": BidRevision,
    "counters": BidCounter,
}


def _prefetch_present(bids: Iterable[Bid], **flags: str) -> None:
    """Load each related list of ``bids`` named in ``flags`` (related name: the bid's boolean
    annotation telling whether it has any) as ``prefetch_related`` would, but only for the bids
    that have some: no query for a list no bid has. An empty, already-read result is set for the
    others, so that ``bid.photos.all()`` reads nothing either."""
    bids = list(bids)
    for name, flag in flags.items():
        present = []
        # One empty, already-read queryset shared by the bids without any: ``.all()`` returns it
        # as it is and any other method clones it, so sharing is safe, and building one per bid
        # (a queryset clone each) was a tenth of her request page's time with 50 offers.
        none = _RELATED[name].objects.none()
        none._result_cache, none._prefetch_done = [], True  # type: ignore[union-attr]  # read, as prefetch leaves it
        for bid in bids:
            if getattr(bid, flag):
                present.append(bid)
            else:
                cache = bid.__dict__.setdefault("_prefetched_objects_cache", {})
                cache[name] = none
        if present:
            prefetch_related_objects(present, name)


def open_counter(*, bid: Bid) -> BidCounter | None:
    """Her open request for a better offer on this bid, if any."""
    return BidCounter.objects.filter(bid=bid, status=BidCounter.Status.OPEN).select_related("bid").first()


def latest_bids_on(*, intent_id: UUID) -> dict[int, Bid]:
    """Each vendor's latest bid on one intent, by vendor id."""
    bids = Bid.objects.filter(intent_id=intent_id).prefetch_related("photos").order_by("created_at")
    return {bid.vendor_id: bid for bid in bids}


def outcome_of(*, bid: Bid, side: str) -> DealOutcome | None:
    """One side's word on how the deal ended, if given."""
    return DealOutcome.objects.filter(bid=bid, side=side).first()


def intent_bids(*, intent: Intent) -> list[Bid]:
    """The bids a customer sees on her request (not the withdrawn ones), newest first, with their
    vendors, photos, revisions and her requests for better offers; each of those three lists is
    read only for the bids that have some (most have none: three queries fewer).

    On PostgreSQL one hand-written statement (``_IntentBidsStatement``), the instances made as
    the ORM makes them; elsewhere the ORM's queryset (``intent_bids_orm``), which a test compares
    it with."""
    connection = connections[router.db_for_read(Bid)]
    if connection.vendor != "postgresql":
        return intent_bids_orm(intent=intent)
    statement = _intent_bids_statement(connection.alias)
    with binary_cursor(connection.alias) as cursor:
        cursor.execute(statement.sql, [intent.pk, Bid.Status.WITHDRAWN.value])
        found = [statement.bid(row) for row in cursor.fetchall()]
    _prefetch_present(found, photos="has_photos", revisions="has_revisions", counters="has_counters")
    return found


class _IntentBidsStatement:
    """``intent_bids``'s statement, written once per process from the models' fields: the ORM
    compiled its queryset (a join and three ``EXISTS`` columns) in about 2.5 ms of CPU on every
    view of her request page and every poll of its offers, several times what PostgreSQL spends
    running it."""

    def __init__(self, alias: str) -> None:
        connection = ConnectionProxy(connections, alias)  # whichever thread's connection runs it
        self.bids = ModelColumns(Bid, "b", connection)
        self.vendors = ModelColumns(Vendor, "v", connection)
        tables = {model.__name__: model._meta.db_table for model in (Bid, Vendor, BidPhoto, BidRevision, BidCounter)}
        self.sql = f"""
            SELECT {self.bids.sql}, {self.vendors.sql},
                   EXISTS (SELECT 1 FROM {tables["BidPhoto"]} x WHERE x.bid_id = b.id),
                   EXISTS (SELECT 1 FROM {tables["BidRevision"]} x WHERE x.bid_id = b.id),
                   EXISTS (SELECT 1 FROM {tables["BidCounter"]} x WHERE x.bid_id = b.id)
            FROM {tables["Bid"]} b
            JOIN {tables["Vendor"]} v ON v.id = b.vendor_id
            WHERE b.intent_id = %s AND b.status <> %s
            ORDER BY b.created_at DESC
        """  # noqa: S608 (table and column names only)

    def bid(self, row: Sequence[Any]) -> Bid:
        bid = self.bids.make(row)
        Bid.vendor.field.set_cached_value(bid, self.vendors.make(row, self.bids.width))
        bid.has_photos, bid.has_revisions, bid.has_counters = row[-3:]  # type: ignore[attr-defined]
        return bid


@cache
def _intent_bids_statement(alias: str) -> _IntentBidsStatement:
    return _IntentBidsStatement(alias)


def intent_bids_orm(*, intent: Intent) -> list[Bid]:
    """``intent_bids`` through the ORM: what other databases run, and what a test compares the
    hand-written statement with."""
    bids = (
        Bid.objects.filter(intent=intent)
        .exclude(status=Bid.Status.WITHDRAWN)
        .select_related("vendor")
        .annotate(
            has_photos=Exists(BidPhoto.objects.filter(bid_id=OuterRef("pk"))),
            has_revisions=Exists(BidRevision.objects.filter(bid_id=OuterRef("pk"))),
            has_counters=Exists(BidCounter.objects.filter(bid_id=OuterRef("pk"))),
        )
    )
    found: list[Bid] = list(bids)
    _prefetch_present(found, photos="has_photos", revisions="has_revisions", counters="has_counters")
    return found


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


def customer_deliveries(*, customer: User) -> QuerySet[Delivery]:
    """Where each of her requests went: every vendor inbox it reached, oldest first."""
    return Delivery.objects.filter(intent__customer=customer).select_related("vendor").order_by("created_at", "id")


def customer_bid_revisions(*, customer: User) -> QuerySet[BidRevision]:
    """What the offers on her requests said before each revision, oldest first."""
    return BidRevision.objects.filter(bid__intent__customer=customer).select_related("bid").order_by("created_at")


def customer_counters(*, customer: User) -> QuerySet[BidCounter]:
    """Her requests for a better offer, oldest first."""
    return BidCounter.objects.filter(bid__intent__customer=customer).select_related("bid").order_by("created_at")


def customer_deal_outcomes(*, customer: User) -> QuerySet[DealOutcome]:
    """Each side's word on how her deals ended."""
    return DealOutcome.objects.filter(bid__intent__customer=customer).select_related("bid").order_by("created_at")


def customer_bid_photos(*, customer: User) -> QuerySet[BidPhoto]:
    """The photos of the offers on her requests."""
    return BidPhoto.objects.filter(bid__intent__customer=customer).select_related("bid").order_by("bid_id", "position")


def customer_messages(*, customer: User) -> QuerySet[Message]:
    """Every message of the customer's threads, oldest first, with its vendor."""
    return Message.objects.filter(intent__customer=customer).select_related("vendor").order_by("created_at")


# Her vendors -------------------------------------------------------------------------------


@dataclass
class VendorDealings:
    """What she has had to do with one vendor, in numbers: a row of "My vendors"."""

    vendor: Vendor
    offers: int = 0
    deals: int = 0
    messages: int = 0
    last_contact: datetime | None = None
    blocked: bool = False


def vendors_dealt_with(*, customer: User) -> list[VendorDealings]:
    """Every vendor she has dealt with (it made an offer on one of her requests, or they
    exchanged messages), the most recent contact first."""
    rows: dict[int, VendorDealings] = {}
    bids = (
        Bid.objects.filter(intent__customer=customer)
        .values("vendor_id")
        .annotate(
            n=Count("id"),
            deals=Count("id", filter=Q(status=Bid.Status.ACCEPTED)),
            last=Max("updated_at"),
        )
    )
    messages = (
        Message.objects.filter(intent__customer=customer)
        .values("vendor_id")
        .annotate(n=Count("id"), last=Max("created_at"))
    )
    vendors = Vendor.objects.in_bulk({row["vendor_id"] for row in bids} | {row["vendor_id"] for row in messages})
    for row in bids:
        rows[row["vendor_id"]] = VendorDealings(
            vendors[row["vendor_id"]], offers=row["n"], deals=row["deals"], last_contact=row["last"]
        )
    for thread in messages:
        dealings = rows.setdefault(thread["vendor_id"], VendorDealings(vendors[thread["vendor_id"]]))
        dealings.messages = thread["n"]
        if dealings.last_contact is None or thread["last"] > dealings.last_contact:
            dealings.last_contact = thread["last"]
    blocked = set(
        Block.objects.filter(customer=customer, blocked_by=Block.Side.CUSTOMER).values_list("vendor_id", flat=True)
    )
    for vendor_id, dealings in rows.items():
        dealings.blocked = vendor_id in blocked
    return sorted(rows.values(), key=lambda d: (d.last_contact is None, -(d.last_contact or _EPOCH).timestamp()))


@dataclass
class RequestHistory:
    """One of her requests as this vendor took part in it: when it got it, whether it opened
    or passed on it, its offers (latest first) and their outcome, the messages, the deal."""

    intent: Intent
    delivery: Delivery | None
    bids: list[Bid] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    outcomes: list[DealOutcome] = field(default_factory=list)


def dealings_with(*, customer: User, vendor_id: int) -> tuple[Vendor, list[RequestHistory]]:
    """The whole history between her and one vendor, by request, newest request first;
    ``NotFound`` for a vendor she has not dealt with. A sealed request's offers stay hidden
    until its deadline, here as everywhere."""
    vendor = Vendor.objects.filter(pk=vendor_id).first()
    bids = list(
        Bid.objects.filter(intent__customer=customer, vendor_id=vendor_id)
        .select_related("intent__category", "intent__region")
        .prefetch_related("revisions", "counters", "outcomes")
        .order_by("-created_at")
    )
    messages = list(
        Message.objects.filter(intent__customer=customer, vendor_id=vendor_id)
        .select_related("intent__category", "intent__region")
        .order_by("created_at", "id")
    )
    if vendor is None or not (bids or messages):
        raise NotFound("No such vendor among yours.")
    deliveries = {
        d.intent_id: d
        for d in Delivery.objects.filter(intent__customer=customer, vendor_id=vendor_id).select_related(
            "intent__category", "intent__region"
        )
    }
    histories: dict[UUID, RequestHistory] = {}

    def history(intent: Intent) -> RequestHistory:
        if intent.pk not in histories:
            histories[intent.pk] = RequestHistory(intent=intent, delivery=deliveries.get(intent.pk))
        return histories[intent.pk]

    for delivery in deliveries.values():
        history(delivery.intent)
    now = datetime.now(tz=UTC)
    for bid in bids:
        entry = history(bid.intent)
        if not entry.intent.is_sealed(now):
            entry.bids.append(bid)
            entry.outcomes.extend(bid.outcomes.all())
    for message in messages:
        history(message.intent).messages.append(message)
    return vendor, sorted(histories.values(), key=lambda h: h.intent.created_at, reverse=True)


# For reputation ----------------------------------------------------------------------------


def vendor_behaviour_facts(*, vendor_ids: Iterable[int], due_before: datetime) -> dict[int, dict[str, Any]]:
    """What vendors did with what they were sent, per vendor: deliveries due an answer (older
    than ``due_before`` or whose request closed; not taken back after an amendment) and how
    many got an offer or a pass; the hours from each delivery to the vendor's first offer on it;
    its agreed deals completed and fallen through, and those it said fell through itself."""
    ids = list(vendor_ids)
    first_bid = Bid.objects.filter(intent=OuterRef("intent_id"), vendor=OuterRef("vendor_id")).order_by("created_at")
    deliveries = Delivery.objects.filter(vendor_id__in=ids, withdrawn_at__isnull=True).annotate(
        first_bid_at=Subquery(first_bid.values("created_at")[:1])
    )
    facts: dict[int, dict[str, Any]] = {
        vid: {"due": 0, "answered": 0, "first_offer_hours": [], "completed": 0, "fell_through": 0, "backed_out": 0}
        for vid in ids
    }
    due = deliveries.filter(Q(created_at__lte=due_before) | ~Q(intent__status=Intent.Status.OPEN))
    for row in due.values("vendor_id").annotate(
        n=Count("id"), answered=Count("id", filter=Q(passed_at__isnull=False) | Q(first_bid_at__isnull=False))
    ):
        facts[row["vendor_id"]].update(due=row["n"], answered=row["answered"])
    for vendor_id, delivered_at, bid_at in deliveries.filter(first_bid_at__isnull=False).values_list(
        "vendor_id", "created_at", "first_bid_at"
    ):
        facts[vendor_id]["first_offer_hours"].append(max((bid_at - delivered_at).total_seconds(), 0) / 3600)
    for deals in (
        Bid.objects.filter(vendor_id__in=ids, status=Bid.Status.ACCEPTED)
        .values("vendor_id")
        .annotate(
            # distinct: the join to a deal's outcomes (one per side) repeats its row
            completed=Count("pk", distinct=True, filter=Q(intent__status=Intent.Status.COMPLETED)),
            fell_through=Count("pk", distinct=True, filter=Q(intent__status=Intent.Status.FELL_THROUGH)),
            backed_out=Count(
                "pk",
                distinct=True,
                filter=Q(outcomes__side=DealOutcome.Side.VENDOR, outcomes__outcome=DealOutcome.Outcome.FELL_THROUGH),
            ),
        )
    ):
        facts[deals["vendor_id"]].update(
            completed=deals["completed"], fell_through=deals["fell_through"], backed_out=deals["backed_out"]
        )
    return facts


def vendors_with_deliveries(*, created_after: datetime, created_until: datetime) -> list[int]:
    """The vendors sent a request (still in their inbox) in ``(created_after, created_until]``."""
    deliveries = Delivery.objects.filter(
        withdrawn_at__isnull=True, created_at__gt=created_after, created_at__lte=created_until
    )
    return list(deliveries.order_by().values_list("vendor_id", flat=True).distinct())


def vendors_with_young_deliveries(*, intent_id: UUID | str, delivered_after: datetime) -> set[int]:
    """The vendors whose inbox got the request after ``delivered_after`` and still holds it, and the
    vendor whose offer on it was accepted."""
    young = Delivery.objects.filter(intent_id=intent_id, withdrawn_at__isnull=True, created_at__gt=delivered_after)
    accepted = Bid.objects.filter(intent_id=intent_id, status=Bid.Status.ACCEPTED)
    return {*young.values_list("vendor_id", flat=True), *accepted.values_list("vendor_id", flat=True)}


def all_vendor_ids() -> list[int]:
    return list(Vendor.objects.order_by("pk").values_list("pk", flat=True))


def deal_vendor_ids(*, customer_ids: Iterable[int]) -> dict[int, set[int]]:
    """Per customer, the vendors she has agreed a deal with."""
    found: dict[int, set[int]] = {}
    for customer_id, vendor_id in Bid.objects.filter(
        intent__customer_id__in=list(customer_ids), status=Bid.Status.ACCEPTED
    ).values_list("intent__customer_id", "vendor_id"):
        found.setdefault(customer_id, set()).add(vendor_id)
    return found


def vendor_account_pairs(*, vendor_ids: Iterable[int] | None = None) -> set[tuple[int, int]]:
    """(user id, vendor id) for every account that acts or acted for a vendor (a removed member
    stays one party with it)."""
    through = VendorMembership.objects.all()
    if vendor_ids is not None:
        through = through.filter(vendor_id__in=list(vendor_ids))
    return set(through.values_list("user_id", "vendor_id"))


def vendor_statuses(*, vendor_ids: Iterable[int]) -> dict[int, str]:
    return dict(Vendor.objects.filter(pk__in=list(vendor_ids)).values_list("pk", "status"))


# Her terms, answered ----------------------------------------------------------------------


def vendor_agreement_records(*, vendor: Vendor) -> QuerySet[AgreementRecord]:
    """The agreements this vendor reached, newest first: its own, never another vendor's."""
    return AgreementRecord.objects.filter(vendor=vendor).select_related("agreement").order_by("-id")


def vendor_answer(*, vendor: Vendor, intent: Intent) -> tuple[AgreementAnswer | None, AgreementRecord | None]:
    """The vendor's answer to her terms on this request, and the agreement reached, if any."""
    answer = AgreementAnswer.objects.select_related("proposed").filter(intent=intent, vendor=vendor).first()
    record = AgreementRecord.objects.select_related("agreement").filter(intent=intent, vendor=vendor).first()
    return answer, record


def intent_terms_answers(*, intent: Intent) -> list[Mapping[str, Any]]:
    """Every vendor's answer to her terms on one of her requests, oldest first, as values for her
    page (no model objects): the vendor's name, the alternative it proposed (``proposed_*``), and
    the agreement reached (``record``: ``agreement_id``, ``title``, ``version``, ``reached_at``,
    ``digest``; None without one).

    On PostgreSQL one hand-written statement, the record joined to its answer (each is one per
    request and vendor): the ORM took longer to build its two queries (about 2 ms of CPU) than
    PostgreSQL to run them. Elsewhere ``intent_terms_answers_orm``, which a test compares it with."""
    connection = connections[router.db_for_read(AgreementAnswer)]
    if connection.vendor != "postgresql":
        return intent_terms_answers_orm(intent=intent)
    with binary_cursor(connection.alias) as cursor:
        cursor.execute(_terms_answers_sql(), [intent.pk])
        rows = cursor.fetchall()
    answers: list[Mapping[str, Any]] = []
    for (
        vendor_id, answer, response, implicit, proposed_id, vendor_name, proposed_title, proposed_summary, clauses,
        record_vendor_id, agreement_id, reached_at, digest, title, version,
    ) in rows:  # fmt: skip
        record = None
        if record_vendor_id is not None:
            record = {
                "vendor_id": record_vendor_id,
                "agreement_id": agreement_id,
                "reached_at": reached_at,
                "digest": digest,
                "title": title,
                "version": version,
            }
        answers.append(
            {
                "vendor_id": vendor_id,
                "answer": answer,
                "response": response,
                "implicit": implicit,
                "proposed_id": proposed_id,
                "vendor_name": vendor_name,
                "proposed_title": proposed_title,
                "proposed_summary": proposed_summary,
                "proposed_clauses": None if clauses is None else json.loads(clauses),  # JSON comes as text
                "record": record,
            }
        )
    return answers


@cache
def _terms_answers_sql() -> str:
    tables = {model.__name__: model._meta.db_table for model in (AgreementAnswer, AgreementRecord, Vendor, Agreement)}
    return f"""
        SELECT a.vendor_id, a.answer, a.response, a.implicit, a.proposed_id, v.name, p.title, p.summary, p.clauses,
               r.vendor_id, r.agreement_id, r.reached_at, r.digest, ra.title, ra.version
        FROM {tables["AgreementAnswer"]} a
        JOIN {tables["Vendor"]} v ON v.id = a.vendor_id
        LEFT JOIN {tables["Agreement"]} p ON p.id = a.proposed_id
        LEFT JOIN {tables["AgreementRecord"]} r ON r.intent_id = a.intent_id AND r.vendor_id = a.vendor_id
        LEFT JOIN {tables["Agreement"]} ra ON ra.id = r.agreement_id
        WHERE a.intent_id = %s
        ORDER BY a.answered_at
    """  # noqa: S608 (table names only)


def intent_terms_answers_orm(*, intent: Intent) -> list[Mapping[str, Any]]:
    """``intent_terms_answers`` through the ORM, in two plain queries (the records as subqueries
    of the answers took the ORM longer to build than both)."""
    records = {
        row["vendor_id"]: row
        for row in AgreementRecord.objects.filter(intent=intent).values(
            "vendor_id",
            "agreement_id",
            "reached_at",
            "digest",
            title=F("agreement__title"),
            version=F("agreement__version"),
        )
    }
    answers = (
        AgreementAnswer.objects.filter(intent=intent)
        .order_by("answered_at")
        .values(
            "vendor_id",
            "answer",
            "response",
            "implicit",
            "proposed_id",
            vendor_name=F("vendor__name"),
            proposed_title=F("proposed__title"),
            proposed_summary=F("proposed__summary"),
            proposed_clauses=F("proposed__clauses"),
        )
    )
    return [{**answer, "record": records.get(answer["vendor_id"])} for answer in answers]


def customer_agreement_records(*, customer: User) -> QuerySet[AgreementRecord]:
    """Every agreement she reached with a vendor, oldest first (her export)."""
    return (
        AgreementRecord.objects.filter(intent__customer=customer)
        .select_related("agreement", "vendor")
        .order_by("reached_at", "id")
    )


def customer_agreement_answers(*, customer: User) -> QuerySet[AgreementAnswer]:
    """Every vendor's answer to the terms of her requests, oldest first (her export)."""
    return (
        AgreementAnswer.objects.filter(intent__customer=customer)
        .select_related("vendor", "proposed")
        .order_by("answered_at", "id")
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


# The vendor area ---------------------------------------------------------------------------


def vendor_api_keys(*, vendor: Vendor) -> QuerySet[ApiKey]:
    """Its keys, live first, newest first: prefix, name, created, last used (never the digest)."""
    return ApiKey.objects.filter(vendor=vendor).order_by(F("revoked_at").desc(nulls_first=True), "-created_at")


def vendor_endpoints(*, vendor: Vendor) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(vendor=vendor).order_by("-active", "created_at")


def endpoint_attempts(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookAttempt]:
    """Every delivery attempt to ``endpoint``, newest first, with the event it carried."""
    return WebhookAttempt.objects.filter(delivery__endpoint=endpoint).select_related("delivery__event")


def vendor_members(*, vendor: Vendor) -> QuerySet[VendorMembership]:
    """The people who act for ``vendor`` now, owners first."""
    return (
        VendorMembership.objects.filter(vendor=vendor, removed_at__isnull=True)
        .select_related("user", "vendor")
        .order_by("-role", "created_at")
    )


def open_invitations(*, vendor: Vendor) -> QuerySet[VendorInvitation]:
    return VendorInvitation.objects.filter(
        vendor=vendor, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def vendor_area_summary(*, vendor: Vendor) -> dict[str, int]:
    """The counts on the vendor's dashboard."""
    return {
        "live_keys": ApiKey.objects.filter(vendor=vendor, revoked_at__isnull=True).count(),
        "active_endpoints": WebhookEndpoint.objects.filter(vendor=vendor, active=True).count(),
        "members": VendorMembership.objects.filter(vendor=vendor, removed_at__isnull=True).count(),
        "subscriptions": Subscription.objects.filter(vendor=vendor, active=True).count(),
        "open_deliveries": Delivery.objects.filter(
            vendor=vendor, passed_at__isnull=True, withdrawn_at__isnull=True, intent__status=Intent.Status.OPEN
        ).count(),
    }


def public_vendor(*, vendor_id: int) -> Vendor:
    """A vendor as any customer may see it: approved vendors only, with what it serves. Nothing
    here is about a customer."""
    vendor = (
        Vendor.objects.filter(pk=vendor_id, status=Vendor.Status.APPROVED)
        .prefetch_related("categories", "regions")
        .first()
    )
    if vendor is None:
        raise NotFound("No such vendor.")
    return vendor
