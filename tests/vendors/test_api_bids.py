from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from broker.pipeline.fanout import deliver_intent
from tests.factories import VendorFactory
from vendors.deal import accept_bid, withdraw_intent
from vendors.models import Bid, BidRevision, VendorEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/bids/"


@pytest.fixture
def intent(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    return publish(customer)


def bid(intent_, **overrides):
    return {
        "intent": str(intent_.pk),
        "amount": "3750.00",
        "currency": "GBP",
        "message": "2005 Yaris T3, 38k miles, silver, full service history.",
        "offered_attributes": {"make": "Toyota", "trim": ["T3"], "mileage": 38000},
        **overrides,
    }


def test_bid_is_created_with_the_customers_terms(vendor_client, intent):
    response = vendor_client.post(URL, bid(intent), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["price"] == {"amount": "3750.00", "currency": "GBP"}
    assert body["status"] == "active"
    assert body["terms_accepted"] == intent.terms
    assert vendor_client.get(f"/api/v1/intents/{intent.pk}/").json()["bid"]["id"] == body["id"]
    assert [b["id"] for b in vendor_client.get(URL).json()["results"]] == [body["id"]]


def test_idempotency_key_replays_the_first_bid(vendor_client, intent):
    first = vendor_client.post(URL, bid(intent), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = vendor_client.post(URL, bid(intent), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and again.status_code == 201
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = vendor_client.post(URL, bid(intent, amount="1.00"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert Bid.objects.count() == 1


def test_second_active_bid_is_409(vendor_client, intent):
    vendor_client.post(URL, bid(intent), format="json")
    response = vendor_client.post(URL, bid(intent, amount="3500"), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_bidding"
    assert Bid.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"amount": "1e40"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "GB"}, "currency"),
        ({"intent": "not-a-uuid"}, "intent"),
        ({"offered_attributes": {"mileage": "far"}}, "offered_attributes"),
        ({"offered_attributes": {"make": "Trabant"}}, "offered_attributes"),
        ({"offered_attributes": {"wings": 2}}, "offered_attributes"),
        ({"offered_attributes": "Toyota"}, "offered_attributes"),
        ({"valid_until": "2001-01-01T00:00:00Z"}, "valid_until"),
        ({"valid_until": "soon"}, "valid_until"),
    ],
)
def test_bad_bid_is_400_with_the_field_and_saves_nothing(vendor_client, intent, overrides, field):
    response = vendor_client.post(URL, bid(intent, **overrides), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"], response.json()
    assert not Bid.objects.exists()


def test_missing_fields_are_named(vendor_client, intent):
    response = vendor_client.post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"intent", "amount", "currency"} <= set(response.json()["error"]["fields"])


def test_bid_on_intent_not_delivered_is_404(make_vendor_client, intent):
    outsider = make_vendor_client()
    response = outsider.post(URL, bid(intent), format="json")
    assert response.status_code == 404
    assert not Bid.objects.exists()


def test_bid_on_withdrawn_intent_is_refused(vendor_client, intent, customer):
    withdraw_intent(customer=customer, intent_id=intent.pk)
    response = vendor_client.post(URL, bid(intent), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "intent_closed"


def test_bid_on_expired_intent_is_refused(vendor_client, intent):
    type(intent).objects.filter(pk=intent.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert vendor_client.post(URL, bid(intent), format="json").status_code == 409


def test_revision_keeps_the_history(vendor_client, intent):
    created = vendor_client.post(URL, bid(intent), format="json").json()
    response = vendor_client.patch(
        f"{URL}{created['id']}/", {"amount": "3600", "message": "Best price."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["price"]["amount"] == "3600.00" and response.json()["message"] == "Best price."
    revision = BidRevision.objects.get(bid_id=created["id"])
    assert str(revision.amount) == "3750.00"


def test_bad_revision_changes_nothing(vendor_client, intent):
    created = vendor_client.post(URL, bid(intent), format="json").json()
    response = vendor_client.patch(f"{URL}{created['id']}/", {"currency": "XYZ", "amount": "1"}, format="json")
    assert response.status_code == 400
    stored = Bid.objects.get(pk=created["id"])
    assert str(stored.amount) == "3750.00" and stored.currency == "GBP"
    assert not BidRevision.objects.exists()


def test_withdraw_then_bid_again(vendor_client, intent):
    created = vendor_client.post(URL, bid(intent), format="json").json()
    withdrawn = vendor_client.delete(f"{URL}{created['id']}/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert vendor_client.delete(f"{URL}{created['id']}/").status_code == 409
    assert vendor_client.patch(f"{URL}{created['id']}/", {"amount": "1"}, format="json").status_code == 409
    assert vendor_client.post(URL, bid(intent), format="json").status_code == 201


def test_another_vendors_bid_is_404(vendor_client, make_vendor_client, intent, subscribe, customer, publish):
    created = vendor_client.post(URL, bid(intent), format="json").json()
    other = make_vendor_client()
    for response in (
        other.get(f"{URL}{created['id']}/"),
        other.patch(f"{URL}{created['id']}/", {"amount": "1"}, format="json"),
        other.delete(f"{URL}{created['id']}/"),
    ):
        assert response.status_code == 404
    assert Bid.objects.get(pk=created["id"]).status == "active"


def test_accepting_one_bid_declines_the_others_and_tells_both(
    vendor_client, make_vendor_client, intent, customer, subscribe
):
    rival = make_vendor_client(VendorFactory(name="Rival Motors"))
    # The rival subscribed late: it receives the intent by a fresh delivery of the same pipeline.

    subscribe(rival.vendor)
    deliver_intent(intent.pk)
    mine = vendor_client.post(URL, bid(intent), format="json").json()
    theirs = rival.post(URL, bid(intent, amount="3900"), format="json").json()

    accept_bid(customer=customer, bid_id=mine["id"])

    assert vendor_client.get(f"{URL}{mine['id']}/").json()["status"] == "accepted"
    assert rival.get(f"{URL}{theirs['id']}/").json()["status"] == "declined"
    assert VendorEvent.objects.filter(vendor=vendor_client.vendor, kind="bid.accepted", subject=mine["id"]).exists()
    assert VendorEvent.objects.filter(vendor=rival.vendor, kind="bid.declined", subject=theirs["id"]).exists()
    closed = vendor_client.post(URL, bid(intent), format="json")
    assert closed.status_code == 409


def test_the_customer_is_emailed_about_a_bid(vendor_client, intent, customer, django_capture_on_commit_callbacks):

    with django_capture_on_commit_callbacks(execute=True):
        vendor_client.post(URL, bid(intent), format="json")
    assert [m.to for m in mail.outbox] == [[customer.email]]
    assert "Yaris Specialists" in mail.outbox[0].body and str(intent.pk) in mail.outbox[0].body
