"""The deal's state machine (vendors.deal): counters, reasons, formats, expiry, moderation, the
deal's outcome, and amendments re-matching the request."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from broker.core.errors import BidNotActive, Conflict, IntentClosed
from intents.models import Intent
from intents.services import amend_intent
from tests.factories import VendorFactory
from vendors.deal import (
    BID_TRANSITIONS,
    INTENT_TRANSITIONS,
    accept_bid,
    counter_bid,
    decline_bid,
    expire_bids,
    mark_outcome,
    remove_intent,
    withdraw_intent,
)
from vendors.models import Bid, BidCounter, DealOutcome, Delivery, VendorEvent
from vendors.services import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(vendor_client, customer, publish, subscribe):
    """An open request and one active offer on it, made through the API."""
    subscribe(vendor_client.vendor)
    intent = publish(customer)
    response = vendor_client.post(
        "/api/v1/bids/", {"intent": str(intent.pk), "amount": "3750.00", "currency": "GBP"}, format="json"
    )
    assert response.status_code == 201, response.json()
    return intent, Bid.objects.get(pk=response.json()["id"])


def events(vendor, kind):
    return list(VendorEvent.objects.filter(vendor=vendor, kind=kind).order_by("id"))


def test_every_transition_is_in_the_tables():
    assert set(INTENT_TRANSITIONS) == {"accept", "withdraw", "expire", "remove", "release", "complete", "fall_through"}
    assert set(BID_TRANSITIONS) == {"accept", "decline", "withdraw", "expire", "moderate"}
    assert INTENT_TRANSITIONS["accept"][1] == Intent.Status.ACCEPTED
    assert Intent.Status.ACCEPTED.label == "Deal agreed"


def test_she_counters_and_the_vendor_revises(offer, customer, vendor_client, django_capture_on_commit_callbacks):
    intent, bid = offer
    counter = counter_bid(customer=customer, bid_id=bid.pk, target_amount=Decimal("3500"), note="Can you do 3,500?")
    [event] = events(vendor_client.vendor, "bid.countered")
    assert event.payload["data"]["counter"]["target_price"] == {"amount": "3500.00", "currency": "GBP"}
    assert event.payload["data"]["counter"]["note"] == "Can you do 3,500?"
    assert vendor_client.get(f"/api/v1/bids/{bid.pk}/").json()["counter"]["status"] == "open"
    with pytest.raises(Conflict):  # one open counter per offer
        counter_bid(customer=customer, bid_id=bid.pk, target_amount=Decimal("3400"))
    with django_capture_on_commit_callbacks(execute=True):
        response = vendor_client.patch(f"/api/v1/bids/{bid.pk}/", {"amount": "3500.00"}, format="json")
    assert response.status_code == 200, response.json()
    counter.refresh_from_db()
    assert counter.status == BidCounter.Status.ANSWERED
    assert bid.revisions.get().amount == Decimal("3750.00")  # the history is kept
    assert mail.outbox[-1].to == [customer.email] and "revised its offer" in mail.outbox[-1].subject


def test_the_vendor_declines_a_counter(offer, customer, vendor_client, django_capture_on_commit_callbacks):
    intent, bid = offer
    counter_bid(customer=customer, bid_id=bid.pk, note="Any better?")
    with django_capture_on_commit_callbacks(execute=True):
        response = vendor_client.post(f"/api/v1/bids/{bid.pk}/counter/decline/")
    assert response.status_code == 200 and response.json()["status"] == "declined"
    assert "will not change its offer" in mail.outbox[-1].subject
    assert vendor_client.post(f"/api/v1/bids/{bid.pk}/counter/decline/").status_code == 404
    counter_bid(customer=customer, bid_id=bid.pk, target_amount=Decimal("3600"))  # she may ask again


def test_a_counter_must_ask_for_something(offer, customer):
    _, bid = offer
    with pytest.raises(ValidationError) as error:
        counter_bid(customer=customer, bid_id=bid.pk)
    assert "target_amount" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        counter_bid(customer=customer, bid_id=bid.pk, target_amount=Decimal("-1"))
    assert "target_amount" in error.value.message_dict
    assert not BidCounter.objects.exists()


def test_declining_with_a_reason_tells_the_vendor_the_reason(offer, customer, vendor_client):
    _, bid = offer
    with pytest.raises(ValidationError):
        decline_bid(customer=customer, bid_id=bid.pk, reason="another_accepted")  # the broker's reason, not hers
    decline_bid(customer=customer, bid_id=bid.pk, reason=Bid.DeclineReason.PRICE)
    [event] = events(vendor_client.vendor, "bid.declined")
    assert event.payload["data"]["decline_reason"] == "price"
    assert vendor_client.get(f"/api/v1/bids/{bid.pk}/").json()["decline_reason"] == "price"


def test_accepting_declines_the_others_with_their_reason(offer, customer, make_vendor_client):
    intent, bid = offer
    other_client = make_vendor_client()
    deliver(intent=intent, matches=[(other_client.vendor.pk, None)])
    other = other_client.post(
        "/api/v1/bids/", {"intent": str(intent.pk), "amount": "3900.00", "currency": "GBP"}, format="json"
    ).json()
    accept_bid(customer=customer, bid_id=bid.pk)
    assert Intent.objects.get(pk=intent.pk).get_status_display() == "Deal agreed"
    declined = other_client.get(f"/api/v1/bids/{other['id']}/").json()
    assert declined["status"] == "declined" and declined["decline_reason"] == "another_accepted"


def test_an_expired_offer_cannot_be_accepted_even_before_the_sweep(offer, customer):
    intent, bid = offer
    Bid.objects.filter(pk=bid.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    with pytest.raises(BidNotActive, match="expired"):
        accept_bid(customer=customer, bid_id=bid.pk)
    assert expire_bids() == 1
    assert Bid.objects.get(pk=bid.pk).status == Bid.Status.EXPIRED
    assert Intent.objects.get(pk=intent.pk).status == Intent.Status.OPEN


def test_a_sealed_request_accepts_nothing_before_its_deadline(offer, customer, vendor_client):
    intent, bid = offer
    Intent.objects.filter(pk=intent.pk).update(format="sealed", sealed_until=timezone.now() + timedelta(days=1))
    with pytest.raises(IntentClosed, match="sealed"):
        accept_bid(customer=customer, bid_id=bid.pk)
    view = vendor_client.get(f"/api/v1/intents/{intent.pk}/").json()
    assert view["format"] == "sealed" and view["market"] is None
    Intent.objects.filter(pk=intent.pk).update(sealed_until=timezone.now() - timedelta(seconds=1))
    assert accept_bid(customer=customer, bid_id=bid.pk).status == Intent.Status.ACCEPTED


def test_an_open_request_shows_vendors_the_count_and_best_price_never_who(offer, make_vendor_client):
    intent, _ = offer
    other_client = make_vendor_client()
    deliver(intent=intent, matches=[(other_client.vendor.pk, None)])
    other_client.post(
        "/api/v1/bids/", {"intent": str(intent.pk), "amount": "3600.00", "currency": "GBP"}, format="json"
    )
    view = other_client.get(f"/api/v1/intents/{intent.pk}/").json()
    assert view["format"] == "open"
    assert view["market"] == {"offers": 2, "best_price": {"amount": "3600.00", "currency": "GBP"}}


def test_closing_with_a_reason_tells_the_vendors_why(
    offer, customer, vendor_client, django_capture_on_commit_callbacks
):
    intent, bid = offer
    with pytest.raises(ValidationError):
        withdraw_intent(customer=customer, intent_id=intent.pk, reason="moderation")
    with django_capture_on_commit_callbacks(execute=True):
        withdraw_intent(customer=customer, intent_id=intent.pk, reason=Intent.CloseReason.BOUGHT_ELSEWHERE)
    [withdrawn] = events(vendor_client.vendor, "intent.withdrawn")
    assert withdrawn.payload["data"]["withdrawn_reason"] == "bought_elsewhere"
    assert Bid.objects.get(pk=bid.pk).decline_reason == "request_closed"


def test_moderator_removal_withdraws_offers_tells_vendors_and_emails_her(
    offer, customer, admin_user, vendor_client, django_capture_on_commit_callbacks
):
    intent, bid = offer
    with django_capture_on_commit_callbacks(execute=True):
        remove_intent(moderator=admin_user, intent=intent, reason="Listing a stolen car is not allowed.")
    bid.refresh_from_db()
    assert bid.status == Bid.Status.WITHDRAWN_BY_MODERATION
    assert bid.get_status_display() == "Withdrawn by moderation"
    assert not events(vendor_client.vendor, "bid.declined")
    [withdrawn] = events(vendor_client.vendor, "intent.withdrawn")
    assert withdrawn.payload["data"]["withdrawn_reason"] == "moderation"
    [email] = [m for m in mail.outbox if m.to == [customer.email]]
    assert "Listing a stolen car is not allowed." in email.body


def test_both_sides_say_how_the_deal_ended(offer, customer, vendor_client):
    intent, bid = offer
    with pytest.raises(BidNotActive):  # not agreed yet
        mark_outcome(bid=bid, side="customer", outcome="completed", customer=customer)
    accept_bid(customer=customer, bid_id=bid.pk)
    response = vendor_client.post(f"/api/v1/bids/{bid.pk}/outcome/", {"outcome": "fell_through"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]
    mark_outcome(bid=bid, side="customer", outcome="completed", customer=customer)
    assert Intent.objects.get(pk=intent.pk).status == Intent.Status.COMPLETED
    response = vendor_client.post(
        f"/api/v1/bids/{bid.pk}/outcome/", {"outcome": "fell_through", "reason": "No show"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert Intent.objects.get(pk=intent.pk).status == Intent.Status.COMPLETED  # the first word moved it
    assert DealOutcome.objects.filter(bid=bid).count() == 2
    with pytest.raises(Conflict):
        mark_outcome(bid=bid, side="customer", outcome="completed", customer=customer)
    [updated] = events(vendor_client.vendor, "deal.updated")
    assert updated.payload["data"]["outcome"]["outcome"] == "completed"


def test_a_vendor_passes_with_a_reason(offer, vendor_client):
    intent, _ = offer
    response = vendor_client.post(f"/api/v1/intents/{intent.pk}/pass/", {"reason": "nonsense"}, format="json")
    assert response.status_code == 400
    response = vendor_client.post(f"/api/v1/intents/{intent.pk}/pass/", {"reason": "not_in_stock"}, format="json")
    assert response.status_code == 204
    assert Delivery.objects.get(intent=intent, vendor=vendor_client.vendor).pass_reason == "not_in_stock"


def test_an_amended_request_reaches_new_vendors_and_leaves_those_that_no_longer_match(
    customer, publish, subscribe, django_capture_on_commit_callbacks
):
    toyota = VendorFactory(name="Toyota only")
    ford = VendorFactory(name="Ford only")
    anyone = VendorFactory(name="Any make")
    subscribe(toyota, attribute_filters={"make": {"in": ["Toyota"]}})
    subscribe(ford, attribute_filters={"make": {"in": ["Ford"]}})
    subscribe(anyone)
    intent = publish(customer)  # a Toyota
    Bid.objects.create(intent=intent, vendor=toyota, amount=3500, currency="GBP", terms_accepted=intent.terms)
    assert set(Delivery.objects.filter(intent=intent).values_list("vendor__name", flat=True)) == {
        "Toyota only",
        "Any make",
    }
    with django_capture_on_commit_callbacks(execute=True):
        amend_intent(
            customer=customer,
            intent_id=intent.pk,
            details="Ford Fiesta now, please.",
            attributes={**intent.attributes, "make": "Ford"},
            budget_max=Decimal("5000"),
        )
    current = Delivery.objects.filter(intent=intent, withdrawn_at__isnull=True)
    assert set(current.values_list("vendor__name", flat=True)) == {"Ford only", "Any make"}
    [gone] = events(toyota, "intent.withdrawn")
    assert gone.payload["data"]["withdrawn_reason"] == "no_longer_matches"
    assert Bid.objects.get(vendor=toyota).decline_reason == "no_longer_matches"
    [new] = events(ford, "intent.matched")
    assert new.payload["data"]["attributes"]["make"] == "Ford"
    [updated] = events(anyone, "intent.updated")
    assert updated.payload["data"]["details"] == "Ford Fiesta now, please." and updated.payload["data"]["revision"] == 2


def test_a_closed_request_cannot_be_amended(offer, customer):
    intent, _ = offer
    withdraw_intent(customer=customer, intent_id=intent.pk)
    with pytest.raises(IntentClosed):
        amend_intent(customer=customer, intent_id=intent.pk, details="", attributes={}, budget_max=None)
