"""A cursor for the hand-written statements read on every request, on PostgreSQL.

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
