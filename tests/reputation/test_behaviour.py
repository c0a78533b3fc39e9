"""Behaviour figures that need no rating (reputation.selectors.computed_vendor_behaviour, which
the stored figures are computed with, and customer_behaviour)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from intents.models import Intent
from reputation.selectors import computed_vendor_behaviour, customer_behaviour, vendor_behaviour
from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors.models import Bid, DealOutcome, Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(categories, regions):
    """A request delivered to ``vendor`` ``hours_ago`` hours ago."""

    def send(vendor, *, hours_ago: float, status: str = Intent.Status.OPEN, customer=None) -> Intent:
        intent = IntentFactory(
            customer=customer or UserFactory(), category=categories["cars"], region=regions["GB"], status=status
        )
        delivery = Delivery.objects.create(intent=intent, vendor=vendor)
        Delivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(hours=hours_ago))
        return intent

    return send


def _bid(intent, vendor, *, hours_ago: float, status: str = Bid.Status.ACTIVE) -> Bid:
    bid = Bid.objects.create(intent=intent, vendor=vendor, amount=1, currency="GBP", terms_accepted={}, status=status)
    Bid.objects.filter(pk=bid.pk).update(created_at=timezone.now() - timedelta(hours=hours_ago))
    return bid


def test_a_vendors_answers_speed_and_deals(sent):
    vendor = VendorFactory()
    offered = sent(vendor, hours_ago=100)
    _bid(offered, vendor, hours_ago=98)  # 2 hours after it arrived
    _bid(offered, vendor, hours_ago=50, status=Bid.Status.WITHDRAWN)  # a later offer: not the first
    passed = sent(vendor, hours_ago=72)
    Delivery.objects.filter(intent=passed).update(passed_at=timezone.now(), pass_reason="price")
    sent(vendor, hours_ago=60)  # ignored: unanswered
    sent(vendor, hours_ago=1)  # too fresh to hold against it...
    closed = sent(vendor, hours_ago=2, status=Intent.Status.EXPIRED)  # ...unless the request closed
    assert closed.status == "expired"
    taken_back = sent(vendor, hours_ago=90)
    Delivery.objects.filter(intent=taken_back).update(withdrawn_at=timezone.now())  # amended away: not counted
    completed = sent(vendor, hours_ago=80, status=Intent.Status.COMPLETED)
    _bid(completed, vendor, hours_ago=70, status=Bid.Status.ACCEPTED)  # 10 hours
    fell = sent(vendor, hours_ago=80, status=Intent.Status.FELL_THROUGH)
    backed_out = _bid(fell, vendor, hours_ago=74, status=Bid.Status.ACCEPTED)  # 6 hours
    DealOutcome.objects.create(bid=backed_out, side="vendor", outcome="fell_through", reason="Sold it elsewhere")
    DealOutcome.objects.create(bid=backed_out, side="customer", outcome="fell_through", reason="It was sold")

    figures = computed_vendor_behaviour([vendor.pk])[vendor.pk]
    # Due: offered, passed, ignored, closed, completed, fell = 6; answered: offered, passed, completed, fell.
    assert figures["deliveries_due"] == 6
    assert figures["answered_share"] == round(4 / 6, 3)
    assert figures["median_hours_to_offer"] == 6.0  # of 2, 6 and 10 hours
    assert (figures["deals_completed"], figures["deals_fell_through"], figures["deals_backed_out"]) == (1, 1, 1)


def test_a_vendor_with_nothing_yet_has_no_shares():
    vendor = VendorFactory()
    assert (
        computed_vendor_behaviour([vendor.pk])[vendor.pk]
        == vendor_behaviour([vendor.pk])[vendor.pk]
        == {
            "deliveries_due": 0,
            "answered_share": None,
            "median_hours_to_offer": None,
            "deals_completed": 0,
            "deals_fell_through": 0,
            "deals_backed_out": 0,
        }
    )


def test_a_customers_decisions_against_silence(categories, regions):
    customer = UserFactory()
    for status in ("accepted", "completed", "fell_through", "withdrawn", "expired", "expired", "open", "removed"):
        IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"], status=status)
    figures = customer_behaviour([customer.pk])[customer.pk]
    # Closed: 4 decided + 2 expired; open and removed ones are not held for or against her.
    assert figures == {"requests_closed": 6, "decided_share": round(4 / 6, 3), "deals_completed": 1}
    newcomer = UserFactory()
    assert customer_behaviour([newcomer.pk])[newcomer.pk] == {
        "requests_closed": 0,
        "decided_share": None,
        "deals_completed": 0,
    }
