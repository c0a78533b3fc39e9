"""Principle 1's one exception: after accepting a bid, the customer may tell that vendor, and
only that vendor, who she is."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from broker.core.errors import IntentClosed
from broker.personal_data import erase_customer
from broker.pipeline.fanout import deliver_intent
from vendors.deal import accept_bid
from vendors.models import VendorEvent
from vendors.relationships import reveal_identity

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(vendor_client, make_vendor_client, customer, publish, subscribe):
    """The customer accepted ``vendor_client``'s bid; ``rival`` bid too."""
    rival = make_vendor_client()
    subscribe(vendor_client.vendor)
    subscribe(rival.vendor)
    intent = publish(customer)
    mine = vendor_client.post(
        "/api/v1/bids/", {"intent": str(intent.pk), "amount": "3500", "currency": "GBP"}, format="json"
    ).json()
    rival.post("/api/v1/bids/", {"intent": str(intent.pk), "amount": "3600", "currency": "GBP"}, format="json")
    accept_bid(customer=customer, bid_id=mine["id"])
    return intent, rival


def test_only_the_accepted_vendor_learns_who_she_is(vendor_client, customer, deal):
    intent, rival = deal
    reveal_identity(customer=customer, intent_id=intent.pk, name="Alice Liddell", email="alice@example.com")

    mine = vendor_client.get(f"/api/v1/intents/{intent.pk}/").json()["customer"]
    assert mine["identity"]["name"] == "Alice Liddell" and mine["identity"]["email"] == "alice@example.com"
    event = VendorEvent.objects.get(vendor=vendor_client.vendor, kind="identity.revealed")
    assert event.payload["data"]["email"] == "alice@example.com" and event.payload["data"]["customer"] == mine["handle"]

    theirs = rival.get(f"/api/v1/intents/{intent.pk}/").json()["customer"]
    assert theirs["identity"] is None
    rival_text = json.dumps([e.payload for e in VendorEvent.objects.filter(vendor=rival.vendor)])
    assert "Alice" not in rival_text and "alice@example.com" not in rival_text


def test_her_later_requests_carry_it_to_that_vendor_only(vendor_client, customer, deal, publish):
    intent, rival = deal
    reveal_identity(customer=customer, intent_id=intent.pk, name="Alice", email="alice@example.com")
    later = publish(customer, title="Another Yaris")
    matched = {
        e.vendor_id: e.payload["data"] for e in VendorEvent.objects.filter(kind="intent.matched", subject=str(later.pk))
    }
    assert matched[vendor_client.vendor.pk]["customer"]["identity"]["name"] == "Alice"
    assert matched[rival.vendor.pk]["customer"]["identity"] is None


def test_no_reveal_before_accepting(customer, vendor, publish, subscribe):
    subscribe(vendor)
    intent = publish(customer)
    with pytest.raises(IntentClosed):
        reveal_identity(customer=customer, intent_id=intent.pk, name="Alice", email="alice@example.com")


@pytest.mark.parametrize(("name", "email", "field"), [("", "alice@example.com", "name"), ("Alice", "nope", "email")])
def test_bad_details_are_refused(customer, deal, name, email, field):
    intent, _ = deal
    with pytest.raises(ValidationError) as error:
        reveal_identity(customer=customer, intent_id=intent.pk, name=name, email=email)
    assert field in error.value.message_dict
    assert not VendorEvent.objects.filter(kind="identity.revealed").exists()


def test_on_the_website(client, customer, deal, vendor_client):
    intent, _ = deal
    client.force_login(customer)
    url = reverse("intents:reveal", args=[intent.pk])
    bad = client.post(url, {"name": "Alice", "email": "not-an-email"})
    assert bad.status_code == 200 and "Enter a valid email address." in bad.content.decode()
    assert not VendorEvent.objects.filter(kind="identity.revealed").exists()
    done = client.post(url, {"name": "Alice", "email": "alice@example.com"}, follow=True)
    assert "now knows who you are" in done.content.decode()
    assert vendor_client.get(f"/api/v1/intents/{intent.pk}/").json()["customer"]["identity"]["name"] == "Alice"


def test_erasure_removes_what_she_shared(vendor_client, customer, deal):
    intent, _ = deal
    reveal_identity(customer=customer, intent_id=intent.pk, name="Alice Liddell", email="alice@example.com")
    erase_customer(customer=customer)
    text = json.dumps([e.payload for e in VendorEvent.objects.filter(vendor=vendor_client.vendor)])
    assert "Alice" not in text and "alice@example.com" not in text


def test_rival_that_never_received_it_learns_nothing(vendor_client, customer, deal, make_vendor_client, subscribe):
    intent, _ = deal
    latecomer = make_vendor_client()
    subscribe(latecomer.vendor)
    deliver_intent(intent.pk)  # the intent is closed: nothing new is delivered
    reveal_identity(customer=customer, intent_id=intent.pk, name="Alice", email="alice@example.com")
    assert latecomer.get(f"/api/v1/intents/{intent.pk}/").status_code == 404
