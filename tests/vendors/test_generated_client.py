"""A vendor's client, generated from the schema as an integrator generates it (openapi-python-client),
drives the whole vendor flow against the app: every answer parses into the generated models, every
error into the generated error model. Whatever in the schema stops the generator, or leaves a
response unparsed, fails here.

Offline: the schema is written from drf-spectacular at test time, the generator runs without its
post-hooks (they format with ruff, not what is tested here), and the client speaks to the WSGI app
through httpx's WSGITransport. The one webhook goes to a receiver on 127.0.0.1.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid

import httpx
import pytest
from django.core.management import call_command

from tests.broker.receiver import Receiver

pytestmark = pytest.mark.django_db

PACKAGE = "intentcast_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory, django_db_blocker):
    """The generated package, imported (its modules by name: ``api``, ``models``)."""
    root = tmp_path_factory.mktemp("client")
    schema = root / "openapi.json"
    with django_db_blocker.unblock():
        call_command("spectacular", "--format", "openapi-json", "--file", str(schema))
    config = root / "config.yaml"
    config.write_text(f"post_hooks: []\nproject_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(schema),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(root / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def op(name: str):
    """One generated operation module, e.g. ``op("v1_me_retrieve").sync_detailed(...)``."""
    return importlib.import_module(f"{PACKAGE}.api.v1.{name}")


def model(name: str):
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


@pytest.fixture
def client(generated, wsgi_app, vendor_client):
    token = vendor_client._credentials["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    return generated.AuthenticatedClient(
        base_url="http://localhost",
        token=token,
        raise_on_unexpected_status=True,  # an undocumented status is an error, not a None
        httpx_args={"transport": httpx.WSGITransport(app=wsgi_app)},
    )


def parsed(response, model_name: str, status: int):
    """The response's parsed body, which must be of the named generated model."""
    assert response.status_code == status, response.content[:500]
    assert isinstance(response.parsed, model(model_name)), (model_name, response.parsed, response.content[:500])
    return response.parsed


def error(response, status: int, code: str):
    body = parsed(response, "ApiErrorOutput", status).error
    assert isinstance(body, model("ApiErrorBody"))
    assert body.code == model("ErrorCodeEnum")(code)
    return body


def test_the_vendor_flow_through_a_generated_client(
    client, vendor_client, customer, publish, django_capture_on_commit_callbacks
):
    me = parsed(op("v1_me_retrieve").sync_detailed(client=client), "MeOutput", 200)
    assert me.name == vendor_client.vendor.name and me.status == model("VendorStatusEnum").APPROVED

    categories = parsed(op("v1_categories_list").sync_detailed(client=client), "PaginatedCategoryOutputList", 200)
    by_slug = {category.slug: category for category in categories.results}
    assert by_slug["cars"].parent == "vehicles" and by_slug["vehicles"].parent is None
    regions = parsed(op("v1_regions_list").sync_detailed(client=client, parent="GB"), "PaginatedRegionOutputList", 200)
    assert {region.code for region in regions.results} == {"GB-ENG", "GB-SCT"}

    subscription = parsed(
        op("v1_subscriptions_create").sync_detailed(
            client=client,
            body=model("SubscriptionRequest")(categories=["cars"], regions=["GB"], keywords=["yaris"]),
            idempotency_key="subscribe-1",
        ),
        "Subscription",
        201,
    )
    assert subscription.categories == ["cars"] and subscription.regions == ["GB"]

    intent_id = publish(customer).pk
    inbox = parsed(op("v1_intents_list").sync_detailed(client=client), "PaginatedIntentOutputList", 200)
    assert [intent.id for intent in inbox.results] == [intent_id]
    intent = parsed(op("v1_intents_retrieve").sync_detailed(intent_id, client=client), "IntentOutput", 200)
    assert intent.bid is None and intent.budget.currency == model("CurrencyEnum").GBP
    assert intent.customer.identity is None and intent.customer.handle.startswith("c_")

    bid_input = model("BidInputRequest")(
        intent=intent_id, amount="3850.00", currency=model("CurrencyEnum").GBP, message="2019 Yaris TR, 31k miles."
    )
    created = op("v1_bids_create").sync_detailed(client=client, body=bid_input, idempotency_key="bid-1")
    bid = parsed(created, "BidOutput", 201)
    assert bid.price.amount == "3850.00" and bid.status == model("BidStatusEnum").ACTIVE
    replay = op("v1_bids_create").sync_detailed(client=client, body=bid_input, idempotency_key="bid-1")
    assert parsed(replay, "BidOutput", 201).id == bid.id and replay.headers["Idempotent-Replayed"] == "true"

    second = op("v1_bids_create").sync_detailed(client=client, body=bid_input, idempotency_key="bid-2")
    assert error(second, 409, "already_bidding").fields.additional_properties == {
        "intent": ["You already have an active bid on this request; revise it instead."]
    }
    invalid = model("BidInputRequest")(intent=intent_id, amount="-5", currency=model("CurrencyEnum").GBP)
    assert "amount" in error(op("v1_bids_create").sync_detailed(client=client, body=invalid), 400, "invalid").fields
    error(op("v1_intents_retrieve").sync_detailed(uuid.uuid4(), client=client), 404, "not_found")

    revised = op("v1_bids_partial_update").sync_detailed(
        bid.id, client=client, body=model("PatchedBidChangeInputRequest")(amount="3700.00")
    )
    assert parsed(revised, "BidOutput", 200).price.amount == "3700.00"
    withdrawn = parsed(op("v1_bids_destroy").sync_detailed(bid.id, client=client), "BidOutput", 200)
    assert withdrawn.status == model("BidStatusEnum").WITHDRAWN
    gone = op("v1_bids_partial_update").sync_detailed(
        bid.id, client=client, body=model("PatchedBidChangeInputRequest")(amount="3600.00")
    )
    error(gone, 409, "bid_not_active")
    error(op("v1_bids_destroy").sync_detailed(bid.id, client=client), 409, "bid_not_active")

    events = parsed(op("v1_events_list").sync_detailed(client=client), "PaginatedEventOutputList", 200)
    assert [event.type_ for event in events.results] == [model("EventKindEnum")("intent.matched")]
    assert isinstance(events.results[0].payload, model("IntentMatchedEvent"))
    assert events.results[0].payload.data.id == intent_id

    with Receiver() as receiver:
        endpoint = parsed(
            op("v1_webhooks_create").sync_detailed(
                client=client,
                body=model("WebhookEndpointInputRequest")(
                    url=receiver.url, events=[model("EventKindEnum")("bid.accepted")]
                ),
                idempotency_key="hook-1",
            ),
            "WebhookEndpointCreated",
            201,
        )
        assert endpoint.secret.startswith("whsec_") and endpoint.url == receiver.url
        with django_capture_on_commit_callbacks(execute=True):
            ping = op("v1_webhooks_ping_create").sync_detailed(endpoint.id, client=client)
        assert ping.status_code == 202 and ping.content == b""  # documented without a body
        assert len(receiver.requests) == 1
    attempts = parsed(
        op("v1_webhooks_attempts_list").sync_detailed(endpoint.id, client=client),
        "PaginatedWebhookAttemptOutputList",
        200,
    )
    assert [(attempt.type_, attempt.succeeded, attempt.response_status) for attempt in attempts.results] == [
        ("webhook.ping", True, 204)
    ]


def test_authentication_errors_parse_too(generated, wsgi_app):
    anonymous = generated.Client(
        base_url="http://localhost",
        raise_on_unexpected_status=True,
        httpx_args={"transport": httpx.WSGITransport(app=wsgi_app)},
    )
    response = op("v1_me_retrieve").sync_detailed(client=anonymous)
    error(response, 401, "not_authenticated")
