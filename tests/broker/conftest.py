import psycopg
import pytest
from django.db import connection


@pytest.fixture
def other_connection(transactional_db):
    """A second PostgreSQL session on the test database: another worker, holding row locks."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks from another session need PostgreSQL")
    params = connection.get_connection_params()
    with psycopg.connect(
        host=params.get("host"),
        port=params.get("port"),
        user=params.get("user"),
        password=params.get("password"),
        dbname=params["dbname"],
        autocommit=True,
    ) as other:
        yield other
