from datetime import timedelta

import pytest
from django.utils import timezone

from broker.core.errors import IntentClosed, NotFound
from broker.models import AuditLog
from intents.models import Intent
from tests.factories import UserFactory
from vendors.deal import accept_bid, expire_intents, remove_intent, withdraw_intent
from vendors.models import Bid, VendorEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def intent_with_bid(customer, publish, subscribe, vendor):
    subscribe(vendor)
    intent = publish(customer)
    bid = Bid.objects.create(intent=intent, vendor=vendor, amount=3500, currency="GBP", terms_accepted=intent.terms)
    return intent, bid


def test_withdrawing_declines_bids_and_tells_every_vendor(
    customer, intent_with_bid, vendor, django_capture_on_commit_callbacks
):
    intent, bid = intent_with_bid
    with django_capture_on_commit_callbacks(execute=True):
        withdraw_intent(customer=customer, intent_id=intent.pk)
    intent.refresh_from_db()
    bid.refresh_from_db()
    assert intent.status == "withdrawn" and intent.closed_at is not None
    assert bid.status == "declined"
    kinds = set(VendorEvent.objects.filter(vendor=vendor).values_list("kind", flat=True))
    assert {"intent.matched", "bid.declined", "intent.withdrawn"} <= kinds


def test_withdrawing_twice_is_refused(customer, intent_with_bid):
    intent, _ = intent_with_bid
    withdraw_intent(customer=customer, intent_id=intent.pk)
    with pytest.raises(IntentClosed):
        withdraw_intent(customer=customer, intent_id=intent.pk)


def test_another_customer_cannot_touch_the_intent(intent_with_bid):
    intent, bid = intent_with_bid
    stranger = UserFactory(username="mallory")
    with pytest.raises(NotFound):
        withdraw_intent(customer=stranger, intent_id=intent.pk)
    with pytest.raises(NotFound):
        accept_bid(customer=stranger, bid_id=bid.pk)
    assert Intent.objects.get(pk=intent.pk).status == "open"


def test_expired_intents_close(customer, intent_with_bid):
    intent, bid = intent_with_bid
    Intent.objects.filter(pk=intent.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_intents() == 1
    intent.refresh_from_db()
    bid.refresh_from_db()
    assert intent.status == "expired" and bid.status == "declined"
    assert expire_intents() == 0


def test_moderator_removal_is_recorded(admin_user, intent_with_bid):
    intent, _ = intent_with_bid
    remove_intent(moderator=admin_user, intent=intent, reason="Spam")
    intent.refresh_from_db()
    assert intent.status == "removed" and intent.removal_reason == "Spam"
    log = AuditLog.objects.get(action="intent.removed")
    assert log.actor == admin_user and log.target_id == str(intent.pk) and log.detail == {"reason": "Spam"}
