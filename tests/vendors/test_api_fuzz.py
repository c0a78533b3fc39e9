"""Schemathesis over the OpenAPI schema, with all of its default checks, against the WSGI app.

Every operation gets the schema's examples, the coverage phase (boundaries, missing required
parameters and headers, wrong types) and generated cases, valid and invalid. Each answer is
checked as Schemathesis checks it by default: not a server error, a documented status, the
documented content type, headers and body, valid data accepted, invalid data rejected, a missing
required header rejected, the API key not ignored. No check and no operation is excluded; where a
valid request needs what only data can say (a cursor the API gave, a category that exists), the
case is completed as a client would complete it (``_as_a_client_would``), and each setting that
departs from Schemathesis' defaults says why.

Webhook operations only ever point at this machine: the URL of a valid registration is mapped to
127.0.0.1, no name is looked up in the DNS (a fake resolver answers every name with 127.0.0.1 and
records it), and the webhook client is replaced by one that sends nothing and records where it
would have sent.
"""

import os
import socket
from urllib.parse import urlsplit

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.permissions import AllowAny
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test

from broker.api import views
from vendors import webhooks

pytestmark = pytest.mark.django_db

LOCAL_RECEIVER = "http://127.0.0.1:9/hooks"  # the discard port; nothing is sent there (see below)


@pytest.fixture
def api_schema(wsgi_app):
    return schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)


@pytest.fixture
def bearer(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    publish(customer)
    return vendor_client._credentials["HTTP_AUTHORIZATION"]


@pytest.fixture
def nothing_leaves(monkeypatch):
    """No DNS look-up, no connection: every name resolves to 127.0.0.1 (should anything ask),
    deliveries are recorded, not sent."""
    sent: list[httpx.Request] = []

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    def receive(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(webhooks, "_client", httpx.Client(transport=httpx.MockTransport(receive)))
    return sent


def _positive(case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


def _as_a_client_would(case, serial: int) -> None:
    """What a schema cannot know, filled in as a client would in a valid request: values that
    are data, not form. Invalid requests are sent as generated.

    - A valid webhook registration points at 127.0.0.1 (its path kept).
    - A cursor is opaque: a valid one is only ever one the API gave (a made-up one is a
      documented 400, see test_api_pagination.py), so a valid request starts at the first page.
    - An Idempotency-Key is new for each new request (the same key with another request is a
      documented 422, see test_api_abuse.py).
    - A subscription names categories and regions that exist, and filters on attributes those
      categories have (the taxonomy is data; an unknown slug, code or attribute is a 400 naming
      the field, see test_api_subscriptions.py).
    """
    if not _positive(case):
        return
    body = case.body
    if case.path == "/api/v1/webhooks/" and isinstance(body, dict) and isinstance(body.get("url"), str):
        body["url"] = LOCAL_RECEIVER + (urlsplit(body["url"]).path or "/")
    if isinstance(case.query, dict):
        case.query.pop("cursor", None)
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"{case.headers['Idempotency-Key'][:240]}-{serial}"
    if case.path.startswith("/api/v1/subscriptions/") and isinstance(body, dict):
        for field, existing in (("categories", "cars"), ("regions", "GB")):
            if isinstance(body.get(field), list):
                body[field] = [existing for _ in body[field]]
        if isinstance(body.get("attribute_filters"), dict):
            body["attribute_filters"] = {}


def test_every_answer_is_what_the_schema_says(api_schema, bearer, nothing_leaves):
    # The pytest plugin (schema.parametrize) does not run under pytest 9 yet: each operation's
    # test is built as the plugin builds it, and every failure is collected, not only the first.
    api_schema.config.update(headers={"Authorization": bearer})
    # A query string too long to be read is refused with a documented 414: a rejection too.
    rejection = api_schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "414"]
    api_schema.config.generation.update(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", 25)),
        # PostgreSQL text cannot hold NUL, so the API refuses it anywhere in the input (a 400, see
        # test_api_abuse.py); JSON Schema has no way to say "no NUL in any string" short of a
        # pattern on every string, free-form objects' keys included.
        allow_x00=False,
    )
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    failures: dict[tuple, str] = {}
    statuses: set[int] = set()
    sent_cases: list = []

    for operation in operations:

        def call(case):
            _as_a_client_would(case, len(sent_cases))
            sent_cases.append(case)
            response = case.call()
            statuses.add(response.status_code)
            try:
                case.validate_response(response, headers={"Authorization": bearer})
            except FailureGroup as group:
                for failure in group.exceptions:
                    code = response.text[:40] if response.status_code < 300 else response.text[:80]
                    failures.setdefault(
                        (case.method, case.path, failure.title, response.status_code, code),
                        f"{case.method} {case.formatted_path} query={case.query} headers={case.headers} "
                        f"body={str(case.body)[:300]} -> {response.status_code} {response.text[:300]}",
                    )

        test = build_operation_test(
            config=api_schema.config,
            operation=operation,
            test_func=call,
            given_kwargs={},
            feedback=FeedbackSources(),
            explicit_settings=settings(
                max_examples=int(os.environ.get("FUZZ_EXAMPLES", 25)),
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            ),
        )
        test()

    report = "\n".join(f"{key[:4]}\n    {example}" for key, example in sorted(failures.items(), key=str))
    assert not failures, report
    # The generated requests reached real behaviour, not only the front door.
    assert {200, 201, 400, 401, 404} <= statuses, statuses
    assert all(urlsplit(str(request.url)).hostname == "127.0.0.1" for request in nothing_leaves)


def test_the_checks_catch_an_operation_that_ignores_its_key(api_schema, bearer, monkeypatch):
    """The harness is wired: were the categories served without a key, the default checks fail."""
    monkeypatch.setattr(views.CategoryList, "permission_classes", [AllowAny])
    api_schema.config.update(headers={"Authorization": bearer})
    case = api_schema["/api/v1/categories/"]["GET"].Case()
    with pytest.raises(FailureGroup) as caught:
        case.validate_response(case.call(), headers={"Authorization": bearer})
    assert {type(failure).__name__ for failure in caught.value.exceptions} == {"IgnoredAuth"}
