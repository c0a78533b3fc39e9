"""Running the hand-written statements of the hot paths on PostgreSQL: reading their results in
binary (``binary_cursor``) and preparing one once per connection (``execute_prepared``).

Django reads results as text and, for ``timestamptz``, through a loader of its own written in
Python (``django.db.backends.postgresql.psycopg_any.BaseTzLoader``, which parses each value with
psycopg's Python parser and then sets its time zone): a page of the vendor API's inbox spent
about as long turning its 2,000 values into Python as PostgreSQL spent running its statement.
psycopg loads binary results with its C loaders instead, in the session's time zone (UTC, as
Django sets it), so the values are the same. Django's cursor cannot ask for them: it binds
parameters on the client, in the simple query protocol, which has text results only.

``binary_cursor`` gives psycopg's own cursor (parameters bound by the server) that asks for
binary results, wrapped by Django as its cursors are: database errors become Django's, and the
statements are logged where Django logs queries (``CaptureQueriesContext``, DEBUG). Its values
are the ones Django's cursor reads, ``jsonb`` as its JSON text included (what a JSONField's
``from_db_value`` decodes), so a row can go through the fields' converters as the ORM's do; a
parameter's type is the one psycopg gives its Python type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from django.db import connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format


class _JsonbTextLoader(Loader):
    """``jsonb`` in binary as its JSON text, as Django reads it (Django registers psycopg's text
    loader for it, in text): a version byte (1), then the text."""

    format = Format.BINARY

    def load(self, data: Buffer) -> str:
        return bytes(data[1:]).decode()


class _BinaryResultsCursor(psycopg.Cursor[Any]):
    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> Any:
        return super().execute(query, params, prepare=prepare, binary=True if binary is None else binary)


def binary_cursor(alias: str) -> CursorWrapper:
    """A cursor of the database ``alias`` (PostgreSQL) whose results are read in binary; use it as
    Django's (``with binary_cursor(alias) as cursor: cursor.execute(sql, params)``)."""
    connection = connections[alias]
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursor = _BinaryResultsCursor(connection.connection)
    cursor.adapters.register_loader("jsonb", _JsonbTextLoader)
    # What the connection's make_debug_cursor and make_cursor wrap a cursor in (Django's cursor()).
    return (CursorDebugWrapper if connection.queries_logged else CursorWrapper)(cursor, connection)


# Far above any count of executions: psycopg prepares a statement only when told to
# (``prepare=True``), never on its own.
_PREPARE_ONLY_WHEN_ASKED = 1 << 30


def execute_prepared(cursor: psycopg.Cursor[Any], sql: str, params: Sequence[Any] | Mapping[str, Any]) -> None:
    """Run ``sql`` as a prepared statement of this connection: parsed and analysed once, then
    only planned and run on each call (PostgreSQL's default ``plan_cache_mode`` plans it for each
    call's values while that costs less than its generic plan; forcing the generic plan was
    slower at 10,000 subscriptions and faster at 1,000,000, so the choice is left to it). Django
    opens psycopg connections with ``prepare_threshold=None``, which turns ``prepare=True`` into
    a no-op, so the threshold is set for this one call and put back: no other statement of the
    connection is prepared. psycopg names and remembers the statement per
    connection, and forgets it (DEALLOCATE ALL) when the connection rolls back, to prepare it
    again on the next call. Measured for ``vendors.selectors.match_candidates`` at 10,000
    subscriptions: about a tenth of the statement's time (the parse and analysis of its text)."""
    connection = cursor.connection
    threshold = connection.prepare_threshold
    connection.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
    try:
        cursor.execute(sql, params, prepare=True)
    finally:
        connection.prepare_threshold = threshold
