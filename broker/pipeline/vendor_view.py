"""The vendor's view of an intent: the one function that builds it (``intent_for_vendor``) and the
two ways it is gathered in bulk, for one vendor and many intents (the API's inbox) and for one
intent and many vendors (the events and webhooks of the fan-out and of a closed request).

A vendor sees the customer only by its own handle for her, her coarse reputation band, its own
latest bid, and what she chose to tell it after accepting its bid. Never her account data.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from django.db import connections, router
from django.db.models import QuerySet

from broker.core.errors import NotFound
from broker.core.statements import binary_cursor
from intents.models import Intent
from intents.selectors import agreement_contents, category_slugs, region_codes
from reputation.models import CustomerScore
from reputation.selectors import (
    CustomerReputation,
    customer_band,
    customer_reputations,
    customer_score_facts,
)
from vendors.models import Bid, BidPhoto, Delivery, IdentityReveal, Pseudonym, Vendor
from vendors.payloads import agreement_for_vendor, agreement_view, bid_for_vendor, money
from vendors.relationships import (
    handles_for_customer,
    handles_for_vendor,
    identities_for_customer,
    identities_for_vendor,
)
from vendors.selectors import (
    inbox_deliveries,
    inbox_view_facts,
    latest_bids,
    latest_bids_on,
    market,
    prefetch_photos,
    vendor_inbox,
)


def intent_for_vendor(
    intent: Intent,
    *,
    handle: str,
    customer_reputation: CustomerReputation,
    bid: Bid | None = None,
    identity: dict[str, str] | None = None,
    market: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``intent`` needs ``category``, ``region`` and ``agreement`` loaded. ``identity`` is what the customer
    chose to tell this vendor after accepting its bid, and only ever this vendor's. ``market``
    (how many offers, the best price) is shown for an open-format request only, and never who
    made them."""
    return _intent_view(
        intent.pk,
        intent.title,
        intent.details,
        intent.language,
        intent.category.slug,
        intent.attributes,
        intent.region.code,
        intent.budget_max,
        intent.currency,
        intent.terms,
        agreement_for_vendor(intent.agreement),
        intent.status,
        intent.format,
        intent.sealed_until,
        intent.revision,
        intent.created_at,
        intent.expires_at,
        customer={"handle": handle, "reputation": customer_reputation, "identity": identity},
        market=market,
        bid=bid,
    )


def _intent_view(
    intent_id: uuid.UUID,
    title: str,
    details: str,
    language: str,
    category_slug: str,
    attributes: dict[str, Any],
    region_code: str,
    budget_max: Decimal | None,
    currency: str,
    terms: dict[str, Any],
    agreement: dict[str, Any],
    status: str,
    format: str,
    sealed_until: datetime | None,
    revision: int,
    created_at: datetime,
    expires_at: datetime,
    *,
    customer: dict[str, Any],
    market: dict[str, Any] | None,
    bid: Bid | None,
) -> dict[str, Any]:
    """The view itself, from plain values: ``intent_for_vendor`` gives them from an Intent, the
    inbox's statement (``inbox_statement_views``) from its rows."""
    return {
        "id": str(intent_id),
        "customer": customer,
        "title": title,
        "details": details,
        "language": language,
        "category": category_slug,
        "attributes": attributes,
        "region": region_code,
        "budget": money(budget_max, currency),
        "terms": terms,
        "agreement": agreement,
        "status": status,
        "format": format,
        "sealed_until": sealed_until.isoformat() if sealed_until else None,
        "market": _market_view(format, market),
        "revision": revision,
        "created_at": created_at.isoformat(),
        "expires_at": expires_at.isoformat(),
        "bid": bid_for_vendor(bid) if bid is not None else None,
    }


def _market_view(format: str, market: dict[str, Any] | None) -> dict[str, Any] | None:
    if format != Intent.Format.OPEN:
        return None  # sealed: nobody sees anything of the other offers
    market = market or {"offers": 0, "best": None}
    best = market["best"]
    return {"offers": market["offers"], "best_price": money(*best) if best is not None else None}


def intents_for_vendor(*, vendor_id: int, intents: Iterable[Intent]) -> list[dict[str, Any]]:
    """One vendor's view of each of ``intents`` (the inbox). Five queries, whatever the number
    of intents."""
    intents = list(intents)
    customer_ids = {intent.customer_id for intent in intents}
    handles = handles_for_vendor(vendor_id=vendor_id, customer_ids=customer_ids)
    bids = latest_bids(vendor_ids=[vendor_id], intent_ids=[intent.pk for intent in intents])
    reputations = customer_reputations(customer_ids)
    identities = identities_for_vendor(vendor_id=vendor_id, customer_ids=customer_ids)
    markets = market(intent_ids=[intent.pk for intent in intents if intent.format == Intent.Format.OPEN])
    return [
        intent_for_vendor(
            intent,
            handle=handles[intent.customer_id],
            customer_reputation=reputations[intent.customer_id],
            bid=bids.get((vendor_id, intent.pk)),
            identity=identities.get(intent.customer_id),
            market=markets.get(intent.pk),
        )
        for intent in intents
    ]


def inbox_annotations(*, vendor_id: int) -> dict[str, Any]:
    """What ``inbox_views`` reads beside each delivery's intent, as annotations of the inbox's
    query (vendors.selectors.inbox_view_facts, and her score for her band)."""
    return {**inbox_view_facts(vendor_id=vendor_id), **customer_score_facts("intent__customer_id")}


@lru_cache(maxsize=4096)
def annotated_inbox(vendor: Vendor) -> QuerySet[Delivery]:
    """``vendor_inbox`` annotated with ``inbox_annotations``, built once per vendor and process:
    building the annotations' subqueries costs more than reading a page of the inbox. A
    template, never evaluated itself: callers chain on it (``.all()``, ``.filter()``), which
    leaves it as it is. Only the vendor's id is in it, so a cached one never goes stale."""
    return vendor_inbox(vendor=vendor).annotate(**inbox_annotations(vendor_id=vendor.pk))


@lru_cache(maxsize=4096)
def annotated_deliveries(vendor: Vendor) -> QuerySet[Delivery]:
    """``vendors.selectors.inbox_deliveries`` annotated with ``inbox_annotations`` (for one
    intent's view, ``inbox_delivery``), built once per vendor and process as ``annotated_inbox``."""
    return inbox_deliveries(vendor=vendor, annotations=inbox_annotations(vendor_id=vendor.pk))


def inbox_views(*, vendor_id: int, deliveries: Sequence[Delivery]) -> list[dict[str, Any]]:
    """The vendor's view of the intent of each of ``deliveries``, annotated with
    ``inbox_annotations``: the same as ``intents_for_vendor``'s in one query for the latest bids
    (and one for their photos, if any), another for what customers told it (rarely any) and
    none for the rest."""
    intents = [delivery.intent for delivery in deliveries]
    bids = latest_bids(vendor_ids=[vendor_id], intent_ids=[intent.pk for intent in intents])
    revealed = {d.intent.customer_id for d in deliveries if d.view_revealed}  # type: ignore[attr-defined]
    identities = identities_for_vendor(vendor_id=vendor_id, customer_ids=revealed) if revealed else {}
    views = []
    for delivery, intent in zip(deliveries, intents, strict=True):
        best = delivery.view_best_amount  # type: ignore[attr-defined]
        views.append(
            intent_for_vendor(
                intent,
                handle=delivery.view_handle,  # type: ignore[attr-defined]
                customer_reputation=customer_band(delivery.view_ratings, delivery.view_score),  # type: ignore[attr-defined]
                bid=bids.get((vendor_id, intent.pk)),
                identity=identities.get(intent.customer_id),
                market={
                    "offers": delivery.view_offers or 0,  # type: ignore[attr-defined]
                    "best": (best, delivery.view_best_currency) if best is not None else None,  # type: ignore[attr-defined]
                },
            )
        )
    return views


class ViewFacts(NamedTuple):
    """What the views of one intent need to know before they are built (``_view_facts``)."""

    has_bids: bool  # any bid, of any status, on the intent
    has_reveals: bool  # she told at least one vendor who she is
    ratings: int | None  # her stored score's columns (None without one), for ``customer_band``
    score: float | None


def _view_facts(*, intent_id: uuid.UUID, customer_id: int) -> ViewFacts:
    """Whether the intent has bids, whether its customer revealed herself to any vendor, and
    her stored score's columns, in one round trip: for the usual cast all three are nothing, and
    the ORM's reads of her score and her reveals plus a probe of the bids were three round trips
    and two queries built (``customer_reputation`` and ``identities_for_customer`` read the same
    rows; a test compares them)."""
    connection = connections[router.db_for_read(Bid)]
    bids, reveals = Bid._meta.db_table, IdentityReveal._meta.db_table
    scores = CustomerScore._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {bids} WHERE intent_id = %s),"  # noqa: S608 (table names only)
            f" EXISTS (SELECT 1 FROM {reveals} WHERE customer_id = %s), s.ratings, s.score"
            f" FROM (SELECT 1 AS one) o LEFT JOIN {scores} s ON s.customer_id = %s",
            [Bid._meta.get_field("intent").get_db_prep_value(intent_id, connection), customer_id, customer_id],
        )
        has_bids, has_reveals, ratings, score = cursor.fetchone()
    return ViewFacts(bool(has_bids), bool(has_reveals), ratings, score)


def intent_json_by_vendor(
    *,
    intent: Intent,
    vendor_ids: Sequence[int],
    extra: dict[str, Any] | None = None,
    handles: Mapping[int, str] | None = None,
) -> dict[int, str]:
    """Each vendor's view of one intent, as JSON text, for the vendors that hold a handle for
    the customer (every vendor it was delivered to). ``handles``, the customer's handle for
    each of ``vendor_ids`` when the caller has just made them, spares reading them.

    The views differ only in the handle, except for the few vendors with a bid on it or to whom
    she revealed who she is. So the common view is encoded once and each handle spliced in:
    encoding 10,000 copies would cost more than writing them. ``extra`` is added to every view
    (the reason it was withdrawn, say).
    """
    if handles is None:
        handles = handles_for_customer(customer_id=intent.customer_id, vendor_ids=vendor_ids)
    # Few vendors have bid on one intent or been told who she is: read those few, not 10,000 ids.
    # A request being cast has no bid yet, and she has told few vendors or none who she is: one
    # probe by hand reads her band and whether there are any (``_view_facts``), sparing the
    # ORM's reads of her score, her reveals, the bids and the market.
    facts = _view_facts(intent_id=intent.pk, customer_id=intent.customer_id)
    reputation = customer_band(facts.ratings, facts.score)
    has_bids = facts.has_bids
    bids = (
        {vendor_id: bid for vendor_id, bid in latest_bids_on(intent_id=intent.pk).items() if vendor_id in handles}
        if has_bids
        else {}
    )
    identities = (
        {
            vendor_id: identity
            for vendor_id, identity in identities_for_customer(customer_id=intent.customer_id).items()
            if vendor_id in handles
        }
        if facts.has_reveals
        else {}
    )
    markets = market(intent_ids=[intent.pk]) if has_bids and intent.format == Intent.Format.OPEN else {}
    extra = extra or {}
    marker = json.dumps(f"handle-{uuid.uuid4().hex}")
    common = intent_for_vendor(
        intent, handle=json.loads(marker), customer_reputation=reputation, market=markets.get(intent.pk)
    )
    head, tail = json.dumps({**common, **extra}).split(marker)  # a fresh marker occurs once
    views = {vendor_id: f"{head}{json.dumps(handle)}{tail}" for vendor_id, handle in handles.items()}
    for vendor_id in set(bids) | set(identities):
        view = intent_for_vendor(
            intent,
            handle=handles[vendor_id],
            customer_reputation=reputation,
            bid=bids.get(vendor_id),
            identity=identities.get(vendor_id),
            market=markets.get(intent.pk),
        )
        views[vendor_id] = json.dumps({**view, **extra})
    return views


# The inbox's statement (PostgreSQL) ------------------------------------------------------------


class InboxRow(NamedTuple):
    """A row of the inbox's statement (``_INBOX_SELECT``): the delivery, its intent's columns as
    ``intent_for_vendor`` reads them, the vendor's facts about it (``inbox_annotations``) and its
    latest bid's columns (``Bid``'s concrete fields in order, None without a bid) with whether
    that bid has photos."""

    id: int
    seen_at: datetime | None
    intent_id: uuid.UUID
    customer_id: int
    title: str
    details: str
    language: str
    category_id: int
    attributes: str  # JSON
    region_id: int
    budget_max: Decimal | None
    currency: str
    terms: str  # JSON
    agreement_id: int
    status: str
    format: str
    sealed_until: datetime | None
    revision: int
    created_at: datetime
    expires_at: datetime
    handle: str | None
    revealed: bool
    offers: int
    best_amount: Decimal | None
    best_currency: str | None
    ratings: int | None
    score: float | None
    bid_id: uuid.UUID | None
    bid_intent_id: uuid.UUID | None
    bid_vendor_id: int | None
    bid_amount: Decimal | None
    bid_currency: str | None
    bid_message: str | None
    bid_offered_attributes: str | None  # JSON
    bid_valid_until: datetime | None
    bid_terms_accepted: str | None  # JSON
    bid_status: str | None
    bid_decline_reason: str | None
    bid_created_at: datetime | None
    bid_updated_at: datetime | None
    bid_decided_at: datetime | None
    bid_has_photos: bool


_BID_COLUMNS = tuple(field.column for field in Bid._meta.concrete_fields)
# The bid's part of a row is Bid's columns in the model's order (``_bid`` loads them as the ORM
# would): a column added to Bid must be added to InboxRow too.
assert InboxRow._fields[-len(_BID_COLUMNS) - 1 : -1] == tuple(f"bid_{column}" for column in _BID_COLUMNS)

# The inbox's page of deliveries is chosen first, by the delivery's index alone, and each of its
# rows then reads the rest by key: her handle and score by joins, the rest in scalar subqueries
# (and lateral ones for the market and the latest bid's columns). As one join of eight relations
# the statement cost PostgreSQL more to plan (2.5 ms, the join orders) than to run; the handle as
# a subquery was read by a scan of the whole pseudonym table for each row while that table is
# small (the bench's: a page of 50 took 1.7 ms of PostgreSQL's CPU so, 1.0 with the two joins,
# which probe the index whatever the size). The
# category's slug, the region's code and the agreement's content come from the process's memory
# of them (``intents.selectors``), by the ids the row gives: three subqueries fewer per row took a
# quarter off the statement's time.
_INBOX_SELECT = f"""
SELECT d.id, d.seen_at, i.id, i.customer_id, i.title, i.details, i.language,
       i.category_id, i.attributes::text, i.region_id, i.budget_max, i.currency, i.terms::text, i.agreement_id,
       i.status, i.format, i.sealed_until, i.revision, i.created_at, i.expires_at,
       p.handle,
       EXISTS(SELECT 1 FROM {IdentityReveal._meta.db_table} x
              WHERE x.vendor_id = d.vendor_id AND x.customer_id = i.customer_id),
       coalesce(m.offers, 0), m.amount, m.currency,
       s.ratings, s.score,
       {", ".join(f"b.{column}" for column in _BID_COLUMNS)},
       b.id IS NOT NULL AND EXISTS(SELECT 1 FROM {BidPhoto._meta.db_table} ph WHERE ph.bid_id = b.id)
FROM (SELECT d.id, d.seen_at, d.intent_id, d.vendor_id FROM {Delivery._meta.db_table} d
      WHERE d.vendor_id = %(vendor)s {{where}}) d
JOIN {Intent._meta.db_table} i ON i.id = d.intent_id
LEFT JOIN {Pseudonym._meta.db_table} p ON p.vendor_id = d.vendor_id AND p.customer_id = i.customer_id  -- one per pair
LEFT JOIN {CustomerScore._meta.db_table} s ON s.customer_id = i.customer_id  -- one per customer
LEFT JOIN LATERAL (  -- the market: the active offers' count, with the lowest
    SELECT count(*) OVER () AS offers, o.amount, o.currency FROM {Bid._meta.db_table} o
    WHERE o.intent_id = d.intent_id AND o.status = %(active)s ORDER BY o.amount, o.currency LIMIT 1
) m ON true
LEFT JOIN LATERAL (
    SELECT * FROM {Bid._meta.db_table} o
    WHERE o.vendor_id = d.vendor_id AND o.intent_id = d.intent_id ORDER BY o.created_at DESC LIMIT 1
) b ON true
{{order}}"""  # noqa: S608 (table and column names only)

# A page of the inbox, newest first (or oldest first from a cursor, for a previous page: DRF's
# cursor pagination reverses it back), after or before a position if there is one.
_INBOX_PAGE_SQL = {
    (descending, bounded): _INBOX_SELECT.format(
        where=(f"AND d.id {'<' if descending else '>'} %(position)s " if bounded else "")
        + f"ORDER BY d.id {'DESC' if descending else 'ASC'} LIMIT %(limit)s OFFSET %(offset)s",
        order=f"ORDER BY d.id {'DESC' if descending else 'ASC'}",
    )
    for descending in (True, False)
    for bounded in (True, False)
}
_INBOX_ONE_SQL = _INBOX_SELECT.format(where="AND d.intent_id = %(intent)s", order="")

_BIGINT = (-(2**63), 2**63 - 1)


def _read_inbox(sql: str, params: dict[str, Any]) -> list[InboxRow]:
    """Rows of the inbox's statement, read in binary (``binary_cursor``: a page of 50 took
    1.6 ms of Python to load as text, 0.7 in binary). Not prepared: PostgreSQL plans it for each
    page's vendor and position anyway (its generic plan, for any vendor, is ten times slower),
    and planning it takes under a millisecond."""
    with binary_cursor(router.db_for_read(Delivery)) as cursor:
        cursor.execute(sql, {**params, "active": Bid.Status.ACTIVE.value})
        return [InboxRow._make(row) for row in cursor.fetchall()]


def inbox_statement_applies() -> bool:
    """Whether the inbox is read with its statement (PostgreSQL), rather than with the ORM's
    annotated querysets (``annotated_inbox``; SQLite, the demo's database)."""
    return connections[router.db_for_read(Delivery)].vendor == "postgresql"


class InboxStatementPage:
    """One vendor's inbox as DRF's ``CursorPagination`` uses a queryset ordered by ``id``: it
    orders it (``-id`` or ``id``), filters it by a position (``id__lt`` or ``id__gt``), slices it
    and reads the slice. Here the read is the statement (``_INBOX_PAGE_SQL``), whose rows are
    plain tuples: compiling the ORM's annotated query and building five model objects per item
    cost more than the query itself. A position that is not a whole number is a ``ValueError``,
    as the ORM's; one beyond the column's range bounds nothing or everything, as the ORM's does."""

    def __init__(self, vendor_id: int) -> None:
        self.vendor_id = vendor_id
        self.descending = True
        self.position: int | None = None

    def _copy(self, **changes: Any) -> InboxStatementPage:
        page = InboxStatementPage(self.vendor_id)
        page.__dict__.update({**self.__dict__, **changes})
        return page

    def order_by(self, *ordering: str) -> InboxStatementPage:
        if ordering not in (("-id",), ("id",)):
            raise ValueError(f"The inbox's statement orders by id only, not {ordering}")
        return self._copy(descending=ordering == ("-id",))

    def filter(self, **bound: Any) -> InboxStatementPage:
        ((lookup, value),) = bound.items()
        if lookup != ("id__lt" if self.descending else "id__gt"):
            raise ValueError(f"The inbox's statement bounds its order by id only, not {lookup}")
        position = int(value)
        return self._copy(position=min(max(position, _BIGINT[0]), _BIGINT[1]))

    def __getitem__(self, window: slice) -> list[InboxRow]:
        start, stop = window.start or 0, window.stop
        if window.step is not None or stop is None or start < 0 or stop < start:
            raise ValueError("The inbox's statement reads a window of rows only")
        params = {"vendor": self.vendor_id, "limit": stop - start, "offset": start}
        if self.position is not None:
            params["position"] = self.position
        return _read_inbox(_INBOX_PAGE_SQL[(self.descending, self.position is not None)], params)


def inbox_statement_view(*, vendor_id: int, intent_id: uuid.UUID) -> tuple[InboxRow, dict[str, Any]]:
    """One delivered intent's row (when the vendor first saw it: ``seen_at``) and the vendor's
    view of it, from the inbox's statement; ``NotFound`` as ``vendors.selectors.inbox_delivery``."""
    rows = _read_inbox(_INBOX_ONE_SQL, {"vendor": vendor_id, "intent": intent_id})
    if not rows:
        raise NotFound("No such request in your inbox.")
    return rows[0], inbox_statement_views(vendor_id=vendor_id, rows=rows)[0]


def inbox_statement_views(*, vendor_id: int, rows: Sequence[InboxRow]) -> list[dict[str, Any]]:
    """The vendor's view of the intent of each of the inbox statement's ``rows``: what
    ``inbox_views`` gives for the same deliveries, with no further query unless a bid has photos
    or a customer told the vendor who she is (rarely)."""
    revealed = {row.customer_id for row in rows if row.revealed}
    identities = identities_for_vendor(vendor_id=vendor_id, customer_ids=revealed) if revealed else {}
    bids = {row.intent_id: _bid(row) for row in rows if row.bid_id is not None}
    prefetch_photos(bids.values())
    slugs = category_slugs({row.category_id for row in rows})
    codes = region_codes({row.region_id for row in rows})
    # One view per agreement, which the page's rows that proffer it share (it is only rendered).
    agreements = {
        key: _agreement_view(content) for key, content in agreement_contents({row.agreement_id for row in rows}).items()
    }
    return [
        _intent_view(
            row.intent_id,
            row.title,
            row.details,
            row.language,
            slugs[row.category_id],
            json.loads(row.attributes),
            codes[row.region_id],
            row.budget_max,
            row.currency,
            json.loads(row.terms),
            agreements[row.agreement_id],
            row.status,
            row.format,
            row.sealed_until,
            row.revision,
            row.created_at,
            row.expires_at,
            customer={
                "handle": row.handle,
                "reputation": customer_band(row.ratings, row.score),
                "identity": identities.get(row.customer_id),
            },
            market={
                "offers": row.offers,
                "best": (row.best_amount, row.best_currency) if row.best_amount is not None else None,
            },
            bid=bids.get(row.intent_id),
        )
        for row in rows
    ]


def _agreement_view(content: tuple[str, int, str, str, str]) -> dict[str, Any]:
    code, version, title, summary, clauses = content
    return agreement_view(code, version, title, summary, json.loads(clauses))


_BID_JSON_FIELDS = frozenset(
    field.attname for field in Bid._meta.concrete_fields if field.get_internal_type() == "JSONField"
)


def _bid(row: InboxRow) -> Bid:
    """The row's latest bid as the ORM would load it (``bid_for_vendor`` builds its view), with
    ``has_photos`` for ``prefetch_photos``."""
    columns: tuple[Any, ...] = row[-len(_BID_COLUMNS) - 1 : -1]
    values = [
        json.loads(value) if field.attname in _BID_JSON_FIELDS and value is not None else value
        for field, value in zip(Bid._meta.concrete_fields, columns, strict=True)
    ]
    bid = Bid.from_db(router.db_for_read(Bid), [field.attname for field in Bid._meta.concrete_fields], values)
    bid.has_photos = row.bid_has_photos  # type: ignore[attr-defined]
    return bid
