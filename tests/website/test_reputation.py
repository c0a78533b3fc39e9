"""What the customer sees of each vendor beside its offer: score, count, behaviour figures; and
the "reputation" order, by the score's lower bound (docs/reputation.md)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from intents.models import Intent
from reputation.models import Rating
from reputation.services import recompute_all, sweep_behaviour
from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors.models import Bid, DealOutcome, Delivery

pytestmark = pytest.mark.django_db


def _rated_deals(vendor, scores, categories, regions):
    for score in scores:
        intent = IntentFactory(
            customer=UserFactory(), category=categories["cars"], region=regions["GB"], status=Intent.Status.COMPLETED
        )
        bid = Bid.objects.create(
            intent=intent,
            vendor=vendor,
            amount=1,
            currency="GBP",
            terms_accepted={},
            status=Bid.Status.ACCEPTED,
            decided_at=timezone.now(),
        )
        DealOutcome.objects.create(bid=bid, side="customer", outcome="completed")
        Rating.objects.create(bid=bid, by=Rating.Side.CUSTOMER, score=score, revealed_at=timezone.now())


@pytest.fixture
def two_vendors_offers(client, customer, publish, categories, regions):
    client.force_login(customer)
    intent = publish(customer)
    newcomer, established = VendorFactory(name="One Five Motors"), VendorFactory(name="Forty Deals Ltd")
    _rated_deals(newcomer, [5], categories, regions)
    _rated_deals(established, [5] * 32 + [4] * 8, categories, regions)
    recompute_all()
    for vendor, amount in ((newcomer, 3500), (established, 3600)):
        Bid.objects.create(intent=intent, vendor=vendor, amount=amount, currency="GBP", terms_accepted=intent.terms)
    # The established vendor was sent two requests two days ago: it offered on hers 3 hours
    # after it arrived and let the other one lapse.
    long_ago = timezone.now() - timedelta(days=2)
    other = IntentFactory(customer=UserFactory(), category=categories["cars"], region=regions["GB"])
    Delivery.objects.create(intent=intent, vendor=established)
    Delivery.objects.create(intent=other, vendor=established)
    Delivery.objects.filter(vendor=established).update(created_at=long_ago)
    Bid.objects.filter(vendor=established, intent=intent).update(created_at=long_ago + timedelta(hours=3))
    sweep_behaviour()  # facts written beside the services: the first sweep stores every vendor's figures
    return intent


def test_each_offer_shows_the_vendors_score_count_and_behaviour(client, two_vendors_offers):
    intent = two_vendors_offers
    html = client.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    # 41 ratings in the market: its mean (4.80) is the prior, so a single 5 shows 4.8 as well,
    # and only the ranking tells them apart (the next test).
    assert "<strong>4.8 / 5</strong> from 40 rated deals" in html
    assert "<strong>4.8 / 5</strong> from 1 rated deal<" in html
    assert "Answers 50% of the requests it is sent" in html
    assert "First offer in about 3 hours (median)" in html
    assert "40 deals completed, 0 fell through" in html and "1 deal completed, 0 fell through" in html


def test_by_reputation_forty_good_ratings_outrank_a_single_five(client, two_vendors_offers):
    intent = two_vendors_offers
    response = client.get(reverse("intents:detail", args=[intent.pk]) + "?sort=reputation")
    assert [offer.bid.vendor.name for offer in response.context["offers"]] == ["Forty Deals Ltd", "One Five Motors"]


def test_a_vendor_without_counting_ratings_is_new(client, customer, publish):
    client.force_login(customer)
    intent = publish(customer)
    Bid.objects.create(intent=intent, vendor=VendorFactory(), amount=100, currency="GBP", terms_accepted=intent.terms)
    html = client.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "New: no rated deals yet" in html
