"""broker.core.statements.binary_cursor (PostgreSQL): the values Django's own cursor reads, in
binary (jsonb as its text); logged where Django logs queries; errors as Django's."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from broker.core.statements import binary_cursor

pytestmark = pytest.mark.django_db

VALUES = """SELECT %(when)s::timestamptz, %(id)s::uuid, %(amount)s::numeric(12, 2), %(text)s::text,
                   '{"b": [1, 2], "a": null}'::jsonb, '{"b": 1}'::jsonb::text, NULL::timestamptz, 7::bigint, true"""


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("binary results are PostgreSQL's")


def params():
    return {
        "when": datetime.datetime(2026, 3, 29, 0, 59, 59, 120000, tzinfo=datetime.UTC),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "amount": Decimal("4999.50"),
        "text": "Yaris T3, ‘silver’",
    }


def test_the_same_values_as_djangos_cursor():
    with connection.cursor() as cursor:
        cursor.execute(VALUES, params())
        text_row = cursor.fetchone()
    with binary_cursor("default") as cursor:
        cursor.execute(VALUES, params())
        binary_row = cursor.fetchone()
    assert binary_row[4] == '{"a": null, "b": [1, 2]}'  # jsonb as its text, as Django reads it
    for fast, slow in zip(binary_row, text_row, strict=True):
        assert (fast, type(fast)) == (slow, type(slow))
    when = binary_row[0]
    assert when.utcoffset() == datetime.timedelta(0)
    assert when.isoformat() == text_row[0].isoformat() == "2026-03-29T00:59:59.120000+00:00"


def test_logged_as_djangos_queries_are():
    with CaptureQueriesContext(connection) as queries, binary_cursor("default") as cursor:
        cursor.execute("SELECT %(n)s::int + 1", {"n": 41})
        assert cursor.fetchone() == (42,)
    assert len(queries) == 1
    assert "SELECT" in queries[0]["sql"]


def test_errors_are_djangos():
    with pytest.raises(DatabaseError), binary_cursor("default") as cursor:
        cursor.execute("SELECT * FROM no_such_table_anywhere")
