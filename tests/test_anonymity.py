"""Principle 1: a vendor never receives the customer's account data or an identifier another
vendor also sees. Every vendor-facing surface is checked: API responses, events, webhooks."""

import json

import pytest
from django.db import connection
from django.utils import timezone

from intents.models import Intent
from reputation.models import CustomerScore, Rating
from reputation.services import recompute_all
from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors import relationships
from vendors.models import Bid, Message, Pseudonym, VendorEvent, WebhookDelivery
from vendors.relationships import ensure_pseudonyms, save_vendor_note
from vendors.threads import post_message

pytestmark = pytest.mark.django_db

SURFACES = ["/api/v1/me/", "/api/v1/intents/", "/api/v1/bids/", "/api/v1/events/"]


def vendor_facing_text(client, intent) -> str:
    texts = [client.get(path).content.decode() for path in SURFACES]
    texts.append(client.get(f"/api/v1/intents/{intent.pk}/").content.decode())
    texts.extend(json.dumps(e.payload) for e in VendorEvent.objects.filter(vendor=client.vendor))
    return "\n".join(texts)


def test_no_account_data_reaches_vendors(make_vendor_client, publish, subscribe):
    customer = UserFactory(username="jane.doe.private", email="jane.doe@private.example")
    client = make_vendor_client()
    subscribe(client.vendor)
    intent = publish(customer)
    client.post("/api/v1/bids/", {"intent": str(intent.pk), "amount": "100", "currency": "GBP"}, format="json")
    text = vendor_facing_text(client, intent)
    assert str(intent.pk) in text  # the surfaces were really read
    for secret in (customer.email, customer.username, "jane.doe"):
        assert secret not in text
    assert f'"customer": {customer.pk}' not in text and '"customer_id"' not in text


def test_two_vendors_see_different_handles_and_one_vendor_the_same_handle_twice(
    make_vendor_client, customer, publish, subscribe
):
    first, second = make_vendor_client(), make_vendor_client()
    subscribe(first.vendor)
    subscribe(second.vendor)
    one = publish(customer, title="First request")
    two = publish(customer, title="Second request")

    def handle(client, intent):
        return client.get(f"/api/v1/intents/{intent.pk}/").json()["customer"]["handle"]

    assert handle(first, one) == handle(first, two)
    assert handle(second, one) == handle(second, two)
    assert handle(first, one) != handle(second, one)
    # Nothing in one vendor's view appears in the other's except the request itself.
    assert handle(first, one) not in vendor_facing_text(second, one)


def test_handles_are_random_not_derived_from_the_customer(customer):

    vendors = [VendorFactory() for _ in range(3)]
    ids = [v.pk for v in vendors]
    handles = ensure_pseudonyms(customer_id=customer.pk, vendor_ids=ids)
    assert len(set(handles.values())) == 3
    assert ensure_pseudonyms(customer_id=customer.pk, vendor_ids=ids) == handles  # stable per pair
    Pseudonym.objects.filter(customer=customer).delete()
    remade = ensure_pseudonyms(customer_id=customer.pk, vendor_ids=ids)
    # Same customer, same vendors, new handles: nothing about the pair determines them.
    assert set(remade.values()).isdisjoint(handles.values())


@pytest.mark.parametrize("one_statement", [True, False], ids=["postgresql-one-statement", "read-then-insert"])
def test_handles_kept_and_made_alike_both_ways(customer, monkeypatch, one_statement):
    """PostgreSQL reads and makes handles in one statement; other databases read, then insert
    the missing. Both keep the existing handles and make the rest, once per pair."""
    if not one_statement:
        monkeypatch.setattr(
            relationships,
            "_read_or_make_pseudonyms",
            lambda database, customer_id, vendor_ids: relationships.handles_for_customer(
                customer_id=customer_id, vendor_ids=vendor_ids
            ),
        )
    vendors = [VendorFactory() for _ in range(4)]
    ids = [v.pk for v in vendors]
    known = ensure_pseudonyms(customer_id=customer.pk, vendor_ids=ids[:2])
    handles = ensure_pseudonyms(customer_id=customer.pk, vendor_ids=[*ids, ids[0]])
    assert set(handles) == set(ids) and len(set(handles.values())) == 4
    assert {v: handles[v] for v in ids[:2]} == known
    assert dict(Pseudonym.objects.filter(customer=customer).values_list("vendor_id", "handle")) == handles


def test_handles_read_and_made_in_one_query_on_postgresql(customer, django_assert_num_queries):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement way is PostgreSQL's")
    ids = [VendorFactory().pk for _ in range(4)]
    ensure_pseudonyms(customer_id=customer.pk, vendor_ids=ids[:2])
    with django_assert_num_queries(1):
        assert len(ensure_pseudonyms(customer_id=customer.pk, vendor_ids=ids)) == 4


def test_her_private_notes_reach_no_vendor(
    make_vendor_client, customer, publish, subscribe, django_capture_on_commit_callbacks
):
    """Her notes about a vendor are hers alone: not in that vendor's view, nor any other's, nor in
    any event or webhook, whatever happens after she writes them."""
    noted, other = make_vendor_client(), make_vendor_client()
    subscribe(noted.vendor)
    subscribe(other.vendor)
    first = publish(customer, title="First request")
    noted.post("/api/v1/bids/", {"intent": str(first.pk), "amount": "100", "currency": "GBP"}, format="json")
    secret = "PRIVATE-NOTE-slow to answer, pushy on finance"
    save_vendor_note(customer=customer, vendor_id=noted.vendor.pk, body=secret)
    second = publish(customer, title="Second request")  # a returning customer, after the note
    with django_capture_on_commit_callbacks(execute=True):
        post_message(intent=first, vendor=noted.vendor, sender=Message.Sender.CUSTOMER, body="Still there?")
    for client in (noted, other):
        text = vendor_facing_text(client, first) + vendor_facing_text(client, second)
        text += client.get(f"/api/v1/intents/{first.pk}/messages/").content.decode()
        text += json.dumps([d.event.payload for d in WebhookDelivery.objects.filter(event__vendor=client.vendor)])
        assert str(second.pk) in text  # the surfaces were really read
        assert secret not in text and "PRIVATE-NOTE" not in text


def test_vendors_see_only_the_customers_band_never_her_score_or_behaviour(
    make_vendor_client, publish, subscribe, categories, regions
):
    """Her score, its ranking figure and her behaviour figures are the same for every vendor, so
    they would link her across vendors: only the coarse band is ever sent."""
    customer = UserFactory(username="rated.customer", email="rated@private.example")
    rated_by = [VendorFactory() for _ in range(6)]
    for index, vendor in enumerate(rated_by):  # six vendors, 4s and 5s: a score of about 4.2
        intent = IntentFactory(
            customer=customer, category=categories["cars"], region=regions["GB"], status=Intent.Status.COMPLETED
        )
        bid = Bid.objects.create(
            intent=intent, vendor=vendor, amount=1, currency="GBP", terms_accepted={}, status="accepted"
        )
        Rating.objects.create(bid=bid, by=Rating.Side.VENDOR, score=4 + index % 2, revealed_at=timezone.now())
    recompute_all()
    stored = CustomerScore.objects.get(customer=customer)
    client = make_vendor_client()
    subscribe(client.vendor)
    intent = publish(customer)
    client.post("/api/v1/bids/", {"intent": str(intent.pk), "amount": "100", "currency": "GBP"}, format="json")
    text = vendor_facing_text(client, intent)
    assert '"band": "good"' in text and '"rated_deals": "5+"' in text  # the band is there...
    for secret in (str(stored.score), str(round(stored.score, 2)), str(stored.rank_score)):
        assert secret not in text  # ...her score is not
    for key in ("rank_score", "decided_share", "requests_closed", "deals_completed"):
        assert key not in text
