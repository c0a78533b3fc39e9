"""Every event type has a schema in the OpenAPI document, and real recorded events match it, key
for key (no key the schema does not name, none it requires missing, every value of its type)."""

from decimal import Decimal

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from broker.api.event_schemas import EVENT_SERIALIZERS
from tests.factories import UserFactory
from vendors import deal, webhooks
from vendors.models import Bid, VendorEvent
from vendors.relationships import reveal_identity
from vendors.threads import post_message

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def components():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema["components"]["schemas"]


def _strict(node):
    """OpenAPI 3.0 to JSON Schema: ``nullable`` becomes a null alternative, and an object with named
    properties admits no others (so an undocumented key fails)."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items() if key != "discriminator"}
    if "$ref" in node:
        node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("type") == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def validate(event: VendorEvent, components) -> None:
    defs = _strict(components)
    jsonschema.validate(event.payload, {"$defs": defs, "$ref": "#/$defs/Event"})
    name = EVENT_SERIALIZERS[event.kind].__name__
    jsonschema.validate(event.payload, {"$defs": defs, "$ref": f"#/$defs/{name}"})


def test_every_event_kind_has_a_schema(components):
    assert set(EVENT_SERIALIZERS) == set(VendorEvent.Kind.values)
    mapping = components["Event"]["discriminator"]["mapping"]
    assert set(mapping) == set(VendorEvent.Kind.values)
    assert components["Event"]["discriminator"]["propertyName"] == "type"
    for kind, ref in mapping.items():
        component = components[ref.rsplit("/", 1)[1]]
        assert set(component["required"]) >= {"type", "timestamp", "data"}
        type_enum = components[component["properties"]["type"]["$ref"].rsplit("/", 1)[1]]
        assert type_enum["enum"] == [kind]


def test_the_events_list_documents_its_payload_as_an_event(components):
    payload = components["EventOutput"]["properties"]["payload"]
    assert payload.get("$ref") == "#/components/schemas/Event" or payload["allOf"] == [
        {"$ref": "#/components/schemas/Event"}
    ]


def test_recorded_events_match_their_schemas(
    components, vendor_client, publish, subscribe, django_capture_on_commit_callbacks
):
    vendor = vendor_client.vendor
    subscribe(vendor)
    customer = UserFactory()
    intent = publish(customer)
    bid = vendor_client.post(
        "/api/v1/bids/", {"intent": str(intent.pk), "amount": "3500", "currency": "GBP"}, format="json"
    ).json()
    deal.counter_bid(customer=customer, bid_id=bid["id"], target_amount=Decimal("3000"), note="A little less?")
    post_message(intent=intent, vendor=vendor, sender="customer", body="Is it still available?")
    deal.accept_bid(customer=customer, bid_id=bid["id"])
    reveal_identity(customer=customer, intent_id=intent.pk, name="Jane", email="jane@example.com")
    deal.mark_outcome(bid=Bid.objects.get(pk=bid["id"]), side="customer", outcome="completed", customer=customer)
    other = publish(UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        deal.withdraw_intent(customer=other.customer, intent_id=other.pk)
    endpoint = webhooks.register_endpoint(vendor=vendor, url="https://example.com/hook")
    webhooks.ping_endpoint(endpoint=endpoint)
    webhooks.disable_endpoint(endpoint=endpoint, reason="every delivery failed")

    events = list(VendorEvent.objects.filter(vendor=vendor).order_by("id"))
    kinds = {event.kind for event in events}
    assert kinds >= {
        "intent.matched",
        "intent.withdrawn",
        "bid.countered",
        "bid.accepted",
        "identity.revealed",
        "deal.updated",
        "message.created",
        "webhook.ping",
        "webhook.endpoint_disabled",
    }
    for event in events:
        validate(event, components)
    listed = vendor_client.get("/api/v1/events/", {"page_size": 200}).json()["results"]
    assert {item["type"] for item in listed} == kinds
    for item in listed:
        assert item["payload"]["type"] == item["type"]


def test_a_payload_with_an_undocumented_key_fails(components, vendor_client):
    endpoint = webhooks.register_endpoint(vendor=vendor_client.vendor, url="https://example.com/hook")
    event = webhooks.ping_endpoint(endpoint=endpoint)
    validate(event, components)
    event.payload["data"]["secret"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        validate(event, components)
