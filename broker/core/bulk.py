"""Bulk SQL for the fan-out sizes (10,000 rows in one statement): reading by a long list of ids,
inserting while skipping rows that already exist, and copying in rows that should not exist
yet. Hand-written because the ORM's ``bulk_create`` builds a model instance per row, which costs
more than the database's work, and has no ``COPY``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar
from uuid import UUID

import psycopg
from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from psycopg.adapt import Buffer
from psycopg.types.uuid import UUIDBinaryDumper

CHUNK = 5000

_T = TypeVar("_T")
_M = TypeVar("_M", bound=models.Model)
# A row of Python values for the columns being inserted, in order.
Row = tuple[object, ...]
if TYPE_CHECKING:
    _Field: TypeAlias = models.Field[Any, Any]


def _chunks(items: list[_T], size: int = CHUNK) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def filter_by_ids(queryset: QuerySet[_M], field: str, ids: Iterable[object]) -> list[QuerySet[_M]]:
    """``queryset`` narrowed to rows whose ``field`` is one of ``ids``, as querysets to read in
    turn: one on PostgreSQL (``= ANY(array)``, a single parameter however many ids; an IN list
    of 10,000 placeholders costs more to build and parse than to run), chunks elsewhere."""
    ids = list(ids)
    if not ids:
        return []
    connection = connections[queryset.db]
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        target = _column_field(queryset.model, field)
        column = f"{quote(queryset.model._meta.db_table)}.{quote(_column(target))}"
        # Cast to the column's type: an array of another type (psycopg sends small ints as
        # smallint[]) is compared element by element, which grows with rows x ids (4 s for
        # 100,000 x 10,000); of the same type PostgreSQL hashes it.
        db_type = _target(target).db_type(connection)
        in_ids = RawSQL(f"{column} = ANY(%s::{db_type}[])", (ids,), output_field=models.BooleanField())  # noqa: S611 (ids are a parameter)
        return [queryset.filter(in_ids)]
    return [queryset.filter(**{f"{field}__in": chunk}) for chunk in _chunks(ids)]


def insert_ignoring_conflicts(model: type[models.Model], fields: Sequence[str], rows: Sequence[Row]) -> int:
    """Insert ``rows`` (values for ``fields``, in order), skipping any row that would break a
    unique constraint. Returns how many rows were inserted.

    What ``bulk_create(ignore_conflicts=True)`` does, without a model instance and a round of
    field preparation per row, which at fan-out sizes (10,000 vendors) cost several times more
    than the database's own work. Values are Python values as the ORM takes them, except that
    JSON fields take JSON text. ``INSERT ... ON CONFLICT DO NOTHING`` on both backends; on
    PostgreSQL the rows travel as one binary array per column (no SQL text grows with the
    rows), elsewhere as multi-row VALUES in batches.
    """
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    targets = [_column_field(model, name) for name in fields]
    if connection.vendor == "postgresql":
        return _insert_unnest(connection, model, targets, rows)
    return _insert_values(connection, model, targets, rows)


def insert_new(model: type[models.Model], fields: Sequence[str], rows: Sequence[Row]) -> int:
    """``insert_ignoring_conflicts`` for rows that should not exist yet (a fan-out's deliveries
    and first-contact pseudonyms): the same rows end up written and the same count is returned,
    faster when none exists.

    On PostgreSQL the rows go in by one binary ``COPY`` (the server inserts them in batches and
    parses no statement; about a fifth less than ``INSERT ... SELECT FROM unnest ... ON
    CONFLICT`` for 100,000 deliveries and pseudonyms). ``COPY`` cannot skip a row that breaks a
    unique constraint, so it runs in a savepoint: if one row existed after all (a re-run, or
    another worker wrote it first), the savepoint is rolled back and the rows go through
    ``insert_ignoring_conflicts``. Elsewhere it is ``insert_ignoring_conflicts``. Values are
    Python values psycopg adapts to the columns' types (ids, text, times; no JSON fields); a
    UUID column also takes the id's text (``UUID.hex`` or the hyphenated form), which is what a
    fan-out part carries: making 50,000 ``UUID`` objects only to write their bytes cost the part
    more (0.15-0.3 s) than turning the text into the bytes.
    """
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return insert_ignoring_conflicts(model, fields, rows)
    targets = [_column_field(model, name) for name in fields]
    quote = connection.ops.quote_name
    sql = (
        f"COPY {quote(model._meta.db_table)} ({', '.join(quote(_column(field)) for field in targets)})"
        " FROM STDIN (FORMAT BINARY)"
    )
    types = [(field.db_type(connection) or "").split("(")[0] for field in targets]
    try:
        with (
            transaction.atomic(using=connection.alias),
            psycopg.Cursor(connection.connection) as cursor,
            cursor.copy(sql) as copy,
        ):
            cursor.adapters.register_dumper(UUID, _UUIDBinaryDumper)  # this cursor's only
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
    except psycopg.errors.UniqueViolation:
        return insert_ignoring_conflicts(model, fields, rows)
    return len(rows)


class _UUIDBinaryDumper(UUIDBinaryDumper):
    """A uuid in binary form (its 16 bytes) from a ``UUID`` or from its text; psycopg's own takes
    a ``UUID`` only. A COPY's column takes the dumper registered for its type (``set_types``)."""

    def dump(self, obj: UUID | str) -> Buffer | None:
        if not isinstance(obj, str):
            return super().dump(obj)
        raw = bytes.fromhex(obj.replace("-", ""))
        if len(raw) != 16:
            raise ValueError(f"not a UUID: {obj!r}")
        return raw


def uniform_ids(values: Sequence[object]) -> list[object]:
    """``values`` (UUIDs, their text, None) as one type, which psycopg needs for an array
    parameter: the text of each if any of them is text."""
    if any(isinstance(value, str) for value in values):
        return [value if value is None or isinstance(value, str) else str(value) for value in values]
    return list(values)


def _column_field(model: type[models.Model], name: str) -> _Field:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def _column(field: _Field) -> str:
    if field.column is None:
        raise TypeError(f"{field} has no column")
    return field.column


def _target(field: _Field) -> _Field:
    """The field whose database form a value takes: a foreign key's target, else the field."""
    return field.target_field if isinstance(field, models.ForeignKey) else field


def _insert_unnest(
    connection: BaseDatabaseWrapper, model: type[models.Model], targets: list[_Field], rows: Sequence[Row]
) -> int:
    quote = connection.ops.quote_name
    columns = list(zip(*rows, strict=True))
    # A column holding one value in every row (the intent, the time) goes once, as a scalar.
    constant = [all(value == values[0] for value in values) for values in columns]
    if all(constant):
        constant[0] = False
    scalars: list[object] = []
    arrays: list[tuple[str, list[object]]] = []
    select: list[str] = []
    for field, values, same in zip(targets, columns, constant, strict=True):
        db_type = (field.db_type(connection) or "").split("(")[0]
        if same:
            select.append(f"%b::{db_type}")
            scalars.append(values[0])
        else:
            select.append(f"u.c{len(arrays)}")
            arrays.append((db_type, uniform_ids(values) if db_type == "uuid" else list(values)))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(_column(field)) for field in targets)}) "  # noqa: S608
        f"SELECT {', '.join(select)} FROM unnest({', '.join(f'%b::{db_type}[]' for db_type, _ in arrays)}) "
        f"AS u({', '.join(f'c{n}' for n in range(len(arrays)))}) ON CONFLICT DO NOTHING"
    )
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:  # server-side binding, binary arrays
        cursor.execute(sql, [*scalars, *(values for _, values in arrays)])
        return max(cursor.rowcount, 0)


def _insert_values(
    connection: BaseDatabaseWrapper, model: type[models.Model], targets: list[_Field], rows: Sequence[Row]
) -> int:
    plain = (models.AutoField, models.IntegerField, models.CharField, models.JSONField)
    adapters = [None if isinstance(_target(field), plain) else _adapter(field, connection) for field in targets]
    if any(adapters):
        rows = [
            tuple(value if adapt is None else adapt(value) for adapt, value in zip(adapters, row, strict=True))
            for row in rows
        ]
    batch_size = settings.INTENTCAST["DELIVERY_BATCH_SIZE"]
    if connection.features.max_query_params:
        batch_size = max(1, min(batch_size, connection.features.max_query_params // len(targets)))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(field)) for field in targets)
    placeholder = "(" + ", ".join(["%s"] * len(targets)) + ")"
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            values = ", ".join([placeholder] * len(batch))
            params: list[Any] = [value for row in batch for value in row]  # any field's database value
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {values} ON CONFLICT DO NOTHING",  # noqa: S608
                params,
            )
            inserted += max(cursor.rowcount, 0)
    return inserted


def _adapter(field: _Field, connection: BaseDatabaseWrapper) -> Callable[[object], object]:
    """``field``'s database form of a value (a UUID as text on SQLite, ...), remembering the last
    one: a column often repeats one value (the intent, the time)."""
    target = _target(field)
    last: list[object] = [object(), None]

    def adapt(value: object) -> object:
        if value is not last[0]:
            last[0], last[1] = value, target.get_db_prep_save(value, connection)
        return last[1]

    return adapt
