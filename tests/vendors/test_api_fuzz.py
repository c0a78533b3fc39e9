"""Schemathesis over the OpenAPI schema: generated requests, valid and not, to every operation.
Whatever a vendor sends, the answer is never a 500 and errors come in the API's one format."""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_schema(db):
    # Like Django's test client: keep the test's connection (and its transaction) open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    publish(customer)
    return vendor_client._credentials["HTTP_AUTHORIZATION"]


def test_no_request_makes_the_api_fail(api_schema, bearer):
    # The pytest plugin (schema.parametrize) does not run under pytest 9 yet, so each operation's
    # Hypothesis strategy is driven here.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    statuses: set[int] = set()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=int(os.environ.get("FUZZ_EXAMPLES", 25)),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case):
            case.headers = {**(case.headers or {}), "Authorization": bearer}
            response = case.call()
            statuses.add(response.status_code)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
            if response.status_code >= 400 and response.status_code != 405:
                assert {"code", "message"} <= set(response.json()["error"]), (case.method, case.formatted_path)

        call()
    # The generated requests reached real behaviour, not only the front door.
    assert {200, 201, 400, 404} <= statuses, statuses
