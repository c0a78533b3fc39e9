"""Reads on the customer side."""

from __future__ import annotations

import copy
import json
from collections.abc import Collection, Iterable
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from django.db import connection
from django.db.models import Count, ForeignKey, Model, Q, QuerySet

from broker.core.errors import NotFound
from broker.core.model_rows import ModelColumns
from broker.core.statements import binary_cursor
from intents.models import Agreement, Category, Intent, Notification, NotificationPreference, Region
from intents.taxonomy_cache import remembered, remembered_each

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def agreement_roster() -> QuerySet[Agreement]:
    """The agreements she may proffer and a vendor may propose: the latest offered version of
    each code."""
    return Agreement.objects.roster()


def roster_agreement(*, code: str, version: int) -> Agreement | None:
    """One agreement of the roster by code and version; None if there is no such agreement on
    offer."""
    return agreement_roster().filter(code=code, version=version).first()


def remembered_agreement(*, customer: User) -> Agreement | None:
    """The agreement to preselect on her next request: the one her latest request proffered (its
    code's current version, if it is still offered), else the setting's default."""
    roster = agreement_roster()
    latest = Intent.objects.filter(customer=customer).order_by("-created_at").values_list("agreement__code", flat=True)
    code = latest.first()
    remembered = roster.filter(code=code).first() if code else None
    return remembered or Agreement.objects.default()


def customer_intents(*, customer: User) -> QuerySet[Intent]:
    """The customer's requests, newest first."""
    return Intent.objects.filter(customer=customer).select_related("category", "region").order_by("-created_at")


def customer_intent(*, customer: User, intent_id: UUID | str) -> Intent:
    """One of the customer's intents, with its category, region and agreement; ``NotFound`` for
    anybody else's. Every page of one of her requests reads it first.

    On PostgreSQL a hand-written statement (``_IntentStatement``: the ORM compiled its
    select_related of three tables in about 1 ms of CPU on every view of one of her requests and
    every poll of its offers, more than PostgreSQL spends running it); elsewhere the ORM's
    select_related (``customer_intent_orm``), which a test compares it with."""
    if connection.vendor != "postgresql":
        return customer_intent_orm(customer=customer, intent_id=intent_id)
    statement = _intent_statement(("category", "region", "agreement"), by_customer=True, lock=False)
    with binary_cursor(connection.alias) as cursor:
        cursor.execute(statement.sql, [_primary_key().get_db_prep_value(intent_id, connection), customer.pk])
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No such request.")
    return statement.intent(row)


def customer_intent_orm(*, customer: User, intent_id: UUID | str) -> Intent:
    """``customer_intent`` through the ORM."""
    intent = (
        Intent.objects.select_related("category", "region", "agreement").filter(pk=intent_id, customer=customer).first()
    )
    if intent is None:
        raise NotFound("No such request.")
    return intent


def lock_intent(*, intent_id: UUID | str, customer: User | None = None) -> Intent | None:
    """The intent (the customer's, when one is given), locked for the rest of the transaction
    (its row only), with its category, agreement and customer (what a bid under the lock reads:
    the terms it stands on, her notification); None if there is none."""
    if connection.vendor != "postgresql":
        return lock_intent_orm(intent_id=intent_id, customer=customer)
    statement = _intent_statement(_LOCKED_WITH, by_customer=customer is not None, lock=True)
    params = [_primary_key().get_db_prep_value(intent_id, connection)]
    if customer is not None:
        params.append(customer.pk)
    with binary_cursor(connection.alias) as cursor:
        cursor.execute(statement.sql, params)
        row = cursor.fetchone()
    return None if row is None else statement.intent(row)


def lock_intent_orm(*, intent_id: UUID | str, customer: User | None = None) -> Intent | None:
    """``lock_intent`` through the ORM's select_related: what other databases run, and what a
    test compares the hand-written statement with."""
    intents = (
        Intent.objects.select_related("category", "agreement", "customer")
        .select_for_update(of=("self",))
        .filter(pk=intent_id)
    )
    if customer is not None:
        intents = intents.filter(customer=customer)
    return intents.first()


_R = TypeVar("_R", bound=Model)

# lock_intent's statement on PostgreSQL, written once per process from the models' fields, rather
# than the ORM's select_related queryset compiled on every call: compiling it took about 2 ms of
# CPU, more than the query (every bid, revision, answer and fan-out locks its request). The
# instances are made as the ORM makes them (Model.from_db, each field's converters), with the
# three related objects cached on the intent.
_LOCKED_WITH = ("customer", "category", "agreement")


class _IntentStatement:
    """An intent by its id (and its customer's, ``by_customer``), with the related objects
    ``related`` (its foreign keys, each joined), locked or not: the statement written once per
    process from the models' fields, the instances made as the ORM makes them
    (``broker.core.model_rows``), each related one cached on the intent."""

    def __init__(self, related: tuple[str, ...], *, by_customer: bool, lock: bool) -> None:
        quote = connection.ops.quote_name
        self.relations = [cast("ForeignKey[Any, Any]", Intent._meta.get_field(name)) for name in related]
        self.intents = ModelColumns(Intent, "i", connection)
        self.related = [
            ModelColumns(relation.related_model, f"r{n}", connection) for n, relation in enumerate(self.relations)
        ]
        joins = " ".join(
            f"JOIN {quote(relation.related_model._meta.db_table)} r{n}"
            f" ON r{n}.{quote(_column(relation.related_model._meta.pk))} = i.{quote(_column(relation))}"
            for n, relation in enumerate(self.relations)
        )
        where = f"i.{quote(_column(Intent._meta.pk))} = %s"
        if by_customer:
            where += f" AND i.{quote(_column(Intent._meta.get_field('customer')))} = %s"
        self.sql = (
            f"SELECT {', '.join([self.intents.sql, *(columns.sql for columns in self.related)])}"  # noqa: S608 (names only)
            f" FROM {quote(Intent._meta.db_table)} i {joins} WHERE {where}{' FOR UPDATE OF i' if lock else ''}"
        )

    def intent(self, row: tuple[Any, ...]) -> Intent:
        intent = self.intents.make(row)
        start = self.intents.width
        for relation, columns in zip(self.relations, self.related, strict=True):
            relation.set_cached_value(intent, columns.make(row, start))
            start += columns.width
        return intent


def _primary_key() -> Any:
    return Intent._meta.pk


def _column(field: Any) -> str:
    return str(field.column)


@cache
def _intent_statement(related: tuple[str, ...], *, by_customer: bool, lock: bool) -> _IntentStatement:
    return _IntentStatement(related, by_customer=by_customer, lock=lock)


def intent_with_places(*, intent_id: UUID | str) -> Intent | None:
    """The intent with its category, region and agreement, as the pipeline reads it (once per
    request it casts). The three come from the process's memory (``intents.taxonomy_cache``, as
    the matcher's taxonomy look-ups do), each intent given its own copies: the ORM's join of
    four tables cost the worker about 0.7 ms more than reading the intent alone, for rows that
    change a few times a year (and an agreement version once used, never)."""
    intent = Intent.objects.filter(pk=intent_id).first()
    if intent is None:
        return None
    intent.category = copy.copy(remembered_rows(Category, [intent.category_id])[intent.category_id])
    intent.region = copy.copy(remembered_rows(Region, [intent.region_id])[intent.region_id])
    if intent.agreement_id is not None:
        agreement = copy.copy(remembered_rows(Agreement, [intent.agreement_id])[intent.agreement_id])
        agreement.clauses = copy.deepcopy(agreement.clauses)  # its own, as every field of the copy
        intent.agreement = agreement
    return intent


def remembered_rows(model: type[_R], pks: Collection[int]) -> dict[int, _R]:
    """The rows ``pks`` of a rarely edited table (a category, a region, an agreement), remembered
    by the process (``intents.taxonomy_cache``: forgotten when one is saved here, and after
    ``TAXONOMY_CACHE_SECONDS`` in every other process), those not yet remembered read in one
    query. Shared by every caller: copy a row before changing it."""
    return remembered_each(
        f"{model._meta.label}-row", pks, lambda missing: model._default_manager.in_bulk(list(missing))
    )


def open_intents_past_expiry(*, now: datetime) -> list[UUID]:
    """Open requests past their expiry, and held ones (in review) that no moderator reached in time."""
    return list(
        Intent.objects.filter(
            status__in=[Intent.Status.OPEN, Intent.Status.IN_REVIEW], expires_at__lte=now
        ).values_list("pk", flat=True)
    )


def intent_ids_of(*, customer: User) -> list[str]:
    return [str(pk) for pk in Intent.objects.filter(customer=customer).values_list("pk", flat=True)]


def category_ancestor_ids(category: Category) -> tuple[int, ...]:
    """Ids of the category's ancestors and of the category, root first (``Category.ancestor_ids``),
    remembered by the process
    (``intents.taxonomy_cache``)."""
    return remembered(("category", category.pk, category.path), lambda: tuple(category.ancestor_ids))


def region_ancestor_lfts(region: Region) -> list[int]:
    """The pre-order numbers of the regions that contain ``region``, remembered by the process
    (``intents.taxonomy_cache``)."""
    return list(
        remembered(
            ("region", region.pk, region.lft, region.rgt),
            lambda: tuple(
                Region.objects.filter(lft__lt=region.lft, rgt__gt=region.rgt)
                .order_by("lft")
                .values_list("lft", flat=True)
            ),
        )
    )


def category_slugs(ids: Collection[int]) -> dict[int, str]:
    """The slug of each of the categories ``ids``, from the process's memory (``remembered_rows``):
    the vendor API's inbox names each request's category by it."""
    return {pk: category.slug for pk, category in remembered_rows(Category, ids).items()}


def region_codes(ids: Collection[int]) -> dict[int, str]:
    """The code of each of the regions ``ids``, from the process's memory (``remembered_rows``)."""
    return {pk: region.code for pk, region in remembered_rows(Region, ids).items()}


def agreement_contents(ids: Collection[int]) -> dict[int, tuple[str, int, str, str, str]]:
    """The content of each of the agreements ``ids`` (``Agreement.CONTENT_FIELDS``: code, version,
    title, summary, and the clauses as JSON text, so that no caller shares one mutable dict), from
    the process's memory (``remembered_rows``): a version a request proffered never changes."""
    return {
        pk: (agreement.code, agreement.version, agreement.title, agreement.summary, json.dumps(agreement.clauses))
        for pk, agreement in remembered_rows(Agreement, ids).items()
    }


def recent_intents(*, categories: Iterable[Category], regions: Iterable[Region], since: datetime) -> QuerySet[Intent]:
    """Requests posted since ``since`` in one of ``categories`` (or below one) and in a region
    that overlaps one of ``regions`` (inside it, or containing it), newest first: what a
    subscription to them would have been offered (the subscription preview)."""
    in_category = Q()
    for category in categories:
        in_category |= Q(category__path__startswith=category.path)
    in_region = Q()
    for region in regions:
        in_region |= Q(region__lft__gte=region.lft, region__lft__lte=region.rgt)
        in_region |= Q(region__lft__lte=region.lft, region__rgt__gte=region.rgt)
    return (
        Intent.objects.filter(in_category, in_region, created_at__gte=since)
        .exclude(status=Intent.Status.REMOVED)
        .only("title", "details", "language", "attributes", "budget_max", "currency")
        .order_by("-created_at")
    )


def customer_notifications(*, customer: User) -> QuerySet[Notification]:
    """Her notifications, newest first."""
    return Notification.objects.filter(customer=customer).order_by("-created_at", "-id")


def unread_notification_count(*, customer: User) -> int:
    """How many of her notifications are unread (the bell on every page of hers). Plain SQL both
    backends run: the ORM's ``count()`` took longer to build (about 0.6 ms of CPU) than to run."""
    with connection.cursor() as cursor:
        cursor.execute(_UNREAD_SQL, [customer.pk])
        return int(cursor.fetchone()[0])


_UNREAD_SQL = f"SELECT COUNT(*) FROM {Notification._meta.db_table} WHERE customer_id = %s AND read_at IS NULL"  # noqa: S608 (a table name)


def notification_preferences_of(*, customer: User) -> QuerySet[NotificationPreference]:
    """The choices she made (kinds without a row follow the default)."""
    return NotificationPreference.objects.filter(customer=customer).order_by("kind")


# For reputation ----------------------------------------------------------------------------

# A request she decided: she accepted an offer (whatever became of the deal) or closed it herself.
DECIDED = (
    Intent.Status.ACCEPTED,
    Intent.Status.COMPLETED,
    Intent.Status.FELL_THROUGH,
    Intent.Status.WITHDRAWN,
)


def customer_request_outcomes(*, customer_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per customer: her closed requests (decided or expired; not open, not removed by a
    moderator), how many of them she decided, and her completed deals."""
    rows = (
        Intent.objects.filter(customer_id__in=list(customer_ids))
        .values("customer_id")
        .annotate(
            closed=Count("id", filter=Q(status__in=[*DECIDED, Intent.Status.EXPIRED])),
            decided=Count("id", filter=Q(status__in=DECIDED)),
            completed=Count("id", filter=Q(status=Intent.Status.COMPLETED)),
        )
    )
    return {
        row["customer_id"]: {"closed": row["closed"], "decided": row["decided"], "completed": row["completed"]}
        for row in rows
    }
