"""Events sent to vendors: recorded once per (vendor, kind, subject), then sent as webhooks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from kombu.exceptions import OperationalError

from broker.models import VendorEvent, WebhookDelivery, WebhookEndpoint

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
        from django.db.backends.postgresql.psycopg_any import is_psycopg3

        if is_psycopg3:
            return _insert_unnest(connection, model, targets, rows)
    return _insert_values(connection, model, targets, rows)


def _insert_unnest(connection, model, targets, rows) -> int:
    import psycopg

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


def record_vendor_events(*, kind: str, subject: str, data_by_vendor: Mapping[int, dict]) -> None:
    """Record ``kind`` about ``subject`` for each vendor, with that vendor's own view of it.

    Unique per (vendor, kind, subject), so recording twice records once; webhooks for the events
    are scheduled in the same transaction and sent after commit.
    """
    record_vendor_events_json(
        kind=kind,
        subject=subject,
        data_json_by_vendor={vendor_id: json.dumps(data) for vendor_id, data in data_by_vendor.items()},
    )


def record_vendor_events_json(*, kind: str, subject: str, data_json_by_vendor: Mapping[int, str]) -> None:
    """``record_vendor_events`` with each vendor's data already encoded as JSON text, so that
    the fan-out can encode an intent once and splice in each vendor's handle."""
    if not data_json_by_vendor:
        return
    now = timezone.now()
    head = f'{{"type": {json.dumps(kind)}, "timestamp": {json.dumps(now.isoformat())}, "data": '
    insert_ignoring_conflicts(
        VendorEvent,
        ("vendor", "kind", "subject", "payload", "created_at"),
        [(vendor_id, kind, subject, f"{head}{data}}}", now) for vendor_id, data in data_json_by_vendor.items()],
    )
    schedule_webhooks(kind=kind, subject=subject, vendor_ids=list(data_json_by_vendor))


def schedule_webhooks(*, kind: str, subject: str, vendor_ids: list[int]) -> None:
    endpoints: list[WebhookEndpoint] = []
    for queryset in filter_by_ids(WebhookEndpoint.objects.filter(active=True), "vendor", vendor_ids):
        endpoints.extend(queryset)
    endpoints = [endpoint for endpoint in endpoints if endpoint.wants(kind)]
    if not endpoints:
        return
    events: dict[int, int] = {}
    with_endpoints = sorted({e.vendor_id for e in endpoints})
    for queryset in filter_by_ids(VendorEvent.objects.filter(kind=kind, subject=subject), "vendor", with_endpoints):
        events.update(queryset.values_list("vendor_id", "id"))
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(event_id=events[endpoint.vendor_id], endpoint=endpoint, next_attempt_at=now)
            for endpoint in endpoints
        ],
        batch_size=settings.INTENTCAST["DELIVERY_BATCH_SIZE"],
        ignore_conflicts=True,
    )
    event_ids = list(events.values())
    transaction.on_commit(lambda: send_pending_webhooks(event_ids))


def send_pending_webhooks(event_ids: list[int]) -> None:
    from broker.tasks import deliver_webhook

    pending = WebhookDelivery.objects.filter(
        event_id__in=event_ids, status=WebhookDelivery.Status.PENDING, attempt_count=0
    ).values_list("pk", flat=True)
    for delivery_id in pending:
        try:
            deliver_webhook.delay(delivery_id)
        except (OperationalError, OSError):  # queue down: the periodic retry_webhooks task sends it later
            return
