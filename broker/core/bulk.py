"""Bulk SQL for the fan-out sizes (10,000 rows in one statement): reading by a long list of ids
and inserting while skipping rows that already exist. Hand-written because the ORM's
``bulk_create`` builds a model instance per row, which costs more than the database's work."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from django.conf import settings
from django.db import connections, models, router
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

CHUNK = 5000


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def filter_by_ids(queryset: QuerySet, field: str, ids: Sequence) -> list[QuerySet]:
    """``queryset`` narrowed to rows whose ``field`` is one of ``ids``, as querysets to read in
    turn: one on PostgreSQL (``= ANY(array)``, a single parameter however many ids; an IN list
    of 10,000 placeholders costs more to build and parse than to run), chunks elsewhere."""
    ids = list(ids)
    if not ids:
        return []
    connection = connections[queryset.db]
    if connection.vendor == "postgresql":
        opts = queryset.model._meta
        column = f"{connection.ops.quote_name(opts.db_table)}.{connection.ops.quote_name(opts.get_field(field).column)}"
        in_ids = RawSQL(f"{column} = ANY(%s)", (ids,), output_field=models.BooleanField())  # noqa: S611 (ids are a parameter)
        return [queryset.filter(in_ids)]
    return [queryset.filter(**{f"{field}__in": chunk}) for chunk in _chunks(ids)]


def insert_ignoring_conflicts(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]) -> int:
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
    targets = [model._meta.get_field(name) for name in fields]
    if connection.vendor == "postgresql":
        return _insert_unnest(connection, model, targets, rows)
    return _insert_values(connection, model, targets, rows)


def _insert_unnest(connection, model, targets, rows) -> int:
    quote = connection.ops.quote_name
    columns = list(zip(*rows, strict=True))
    # A column holding one value in every row (the intent, the time) goes once, as a scalar.
    constant = [all(value == values[0] for value in values) for values in columns]
    if all(constant):
        constant[0] = False
    scalars, arrays, select = [], [], []
    for field, values, same in zip(targets, columns, constant, strict=True):
        db_type = field.db_type(connection).split("(")[0]
        if same:
            select.append(f"%b::{db_type}")
            scalars.append(values[0])
        else:
            select.append(f"u.c{len(arrays)}")
            arrays.append((db_type, list(values)))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in targets)}) "  # noqa: S608
        f"SELECT {', '.join(select)} FROM unnest({', '.join(f'%b::{db_type}[]' for db_type, _ in arrays)}) "
        f"AS u({', '.join(f'c{n}' for n in range(len(arrays)))}) ON CONFLICT DO NOTHING"
    )
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:  # server-side binding, binary arrays
        cursor.execute(sql, [*scalars, *(values for _, values in arrays)])
        return max(cursor.rowcount, 0)


def _insert_values(connection, model, targets, rows) -> int:
    plain = models.AutoField | models.IntegerField | models.CharField | models.JSONField
    adapters = [
        None if isinstance(field.target_field if field.is_relation else field, plain) else _adapter(field, connection)
        for field in targets
    ]
    if any(adapters):
        rows = [
            tuple(value if adapt is None else adapt(value) for adapt, value in zip(adapters, row, strict=True))
            for row in rows
        ]
    batch_size = settings.INTENTCAST["DELIVERY_BATCH_SIZE"]
    if connection.features.max_query_params:
        batch_size = max(1, min(batch_size, connection.features.max_query_params // len(targets)))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in targets)
    placeholder = "(" + ", ".join(["%s"] * len(targets)) + ")"
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            values = ", ".join([placeholder] * len(batch))
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {values} ON CONFLICT DO NOTHING",  # noqa: S608
                [value for row in batch for value in row],
            )
            inserted += max(cursor.rowcount, 0)
    return inserted


def _adapter(field: models.Field, connection):
    """``field``'s database form of a value (a UUID as text on SQLite, ...), remembering the last
    one: a column often repeats one value (the intent, the time)."""
    target = field.target_field if field.is_relation else field
    last: list = [object(), None]

    def adapt(value):
        if value is not last[0]:
            last[0], last[1] = value, target.get_db_prep_save(value, connection)
        return last[1]

    return adapt
