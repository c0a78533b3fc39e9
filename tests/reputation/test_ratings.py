from datetime import timedelta

import pytest
from django.utils import timezone

from reputation.models import Rating
from reputation.selectors import customer_reputation, vendor_reputation
from reputation.services import NotRateable, rate, recompute_all, reveal_expired
from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors.deal import accept_bid, mark_outcome
from vendors.models import Bid, DealOutcome, VendorEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreed(vendor_client, customer, publish, subscribe):
    """An accepted bid between ``customer`` and the vendor of ``vendor_client``: a deal agreed."""
    subscribe(vendor_client.vendor)
    intent = publish(customer)
    bid = Bid.objects.create(
        intent=intent, vendor=vendor_client.vendor, amount=3500, currency="GBP", terms_accepted=intent.terms
    )
    accept_bid(customer=customer, bid_id=bid.pk)
    bid.refresh_from_db()
    return bid


@pytest.fixture
def deal(agreed, customer):
    """That deal, which she says was completed: ratings are open."""
    mark_outcome(bid=agreed, side=DealOutcome.Side.CUSTOMER, outcome=DealOutcome.Outcome.COMPLETED, customer=customer)
    return agreed


def test_vendor_rates_the_customer_blind(vendor_client, deal):
    response = vendor_client.post(f"/api/v1/bids/{deal.pk}/rating/", {"score": 5, "comment": "Smooth"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["revealed"] is False
    assert customer_reputation(deal.intent.customer_id)["rated_deals"] == "0"  # hidden until both rated


def test_both_sides_rated_reveals_both_and_tells_the_vendor(vendor_client, deal):
    vendor_client.post(f"/api/v1/bids/{deal.pk}/rating/", {"score": 4}, format="json")
    rate(bid=deal, by=Rating.Side.CUSTOMER, score=5, comment="Great car")
    assert not Rating.objects.filter(revealed_at__isnull=True).exists()
    # One 5 is a Bayesian 4.17 (the prior: 4.0 weighing as 5 ratings; docs/reputation.md).
    assert vendor_reputation(deal.vendor_id) == {"ratings": 1, "score": 4.17, "rank_score": 3.5045}
    assert vendor_client.get("/api/v1/me/").json()["reputation"] == {"ratings": 1, "score": 4.17}
    event = VendorEvent.objects.get(kind="rating.revealed")
    assert event.payload["data"]["customer_rating"] == {"score": 5, "comment": "Great car"}


def test_one_sided_rating_is_revealed_when_the_window_closes(deal):
    rate(bid=deal, by=Rating.Side.CUSTOMER, score=2)
    assert reveal_expired() == 0
    long_ago = timezone.now() - timedelta(days=31)
    Bid.objects.filter(pk=deal.pk).update(decided_at=long_ago)
    DealOutcome.objects.filter(bid=deal).update(created_at=long_ago)
    assert reveal_expired() == 1
    assert vendor_reputation(deal.vendor_id)["ratings"] == 1


def test_moderator_hidden_rating_does_not_count(deal):
    rate(bid=deal, by=Rating.Side.CUSTOMER, score=1)
    rate(bid=deal, by=Rating.Side.VENDOR, score=5)
    Rating.objects.filter(by=Rating.Side.CUSTOMER).update(hidden_by_moderator=True)
    recompute_all()
    assert vendor_reputation(deal.vendor_id) == {"ratings": 0, "score": None, "rank_score": None}


def test_customer_reputation_is_a_coarse_band(customer, categories, regions):
    for _ in range(6):
        intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"])
        bid = Bid.objects.create(
            intent=intent,
            vendor=VendorFactory(),
            amount=1,
            currency="GBP",
            terms_accepted={},
            status="accepted",
            decided_at=timezone.now(),
        )
        Rating.objects.create(bid=bid, by=Rating.Side.VENDOR, score=5, revealed_at=timezone.now())
    recompute_all()
    # Six vendors' 5s under the prior (4.0 weighing 5 ratings): (20 + 30) / 11 = 4.55, "excellent".
    assert customer_reputation(customer.pk) == {"band": "excellent", "rated_deals": "5+"}
    assert customer_reputation(UserFactory(username="newcomer").pk) == {"band": "new", "rated_deals": "0"}


def test_rating_twice_is_refused(vendor_client, deal):
    vendor_client.post(f"/api/v1/bids/{deal.pk}/rating/", {"score": 4}, format="json")
    response = vendor_client.post(f"/api/v1/bids/{deal.pk}/rating/", {"score": 1}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_rateable"
    assert Rating.objects.get().score == 4


def test_only_accepted_bids_can_be_rated(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    intent = publish(customer)
    bid = vendor_client.post(
        "/api/v1/bids/", {"intent": str(intent.pk), "amount": "10", "currency": "GBP"}, format="json"
    ).json()
    response = vendor_client.post(f"/api/v1/bids/{bid['id']}/rating/", {"score": 5}, format="json")
    assert response.status_code == 409
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    "payload", [{"score": 0}, {"score": 6}, {"score": "five"}, {}, {"score": 3, "comment": "x" * 2001}]
)
def test_bad_rating_is_400(vendor_client, deal, payload):
    response = vendor_client.post(f"/api/v1/bids/{deal.pk}/rating/", payload, format="json")
    assert response.status_code == 400
    assert not Rating.objects.exists()


def test_another_vendors_deal_is_404(make_vendor_client, deal):
    response = make_vendor_client().post(f"/api/v1/bids/{deal.pk}/rating/", {"score": 1}, format="json")
    assert response.status_code == 404


def test_rating_window_closes(deal):
    with pytest.raises(NotRateable):
        rate(bid=deal, by=Rating.Side.CUSTOMER, score=5, now=timezone.now() + timedelta(days=31))


def test_ratings_do_not_open_at_acceptance(vendor_client, agreed):
    bid = agreed
    with pytest.raises(NotRateable, match="once the deal is marked completed"):
        rate(bid=bid, by=Rating.Side.CUSTOMER, score=5)
    response = vendor_client.post(f"/api/v1/bids/{bid.pk}/rating/", {"score": 4}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_rateable"


def test_a_deal_only_agreed_is_never_rated_however_long_ago(agreed):
    """Only completed deals are rated (issue 10): an agreed deal nobody marked completed stays
    unrateable, so agreeing deals and abandoning them cannot build reputation."""
    Bid.objects.filter(pk=agreed.pk).update(decided_at=timezone.now() - timedelta(days=8))
    agreed.refresh_from_db()
    with pytest.raises(NotRateable, match="once the deal is marked completed"):
        rate(bid=agreed, by=Rating.Side.CUSTOMER, score=4)


def test_a_deal_that_fell_through_is_not_rated(agreed, customer):
    mark_outcome(
        bid=agreed,
        side=DealOutcome.Side.CUSTOMER,
        outcome=DealOutcome.Outcome.FELL_THROUGH,
        reason="Car was sold",
        customer=customer,
    )
    with pytest.raises(NotRateable):
        rate(bid=agreed, by=Rating.Side.VENDOR, score=1)


def test_when_the_sides_disagree_both_may_rate(agreed, customer):
    """The vendor says it fell through, she says it was completed: the vendor cannot keep her
    from rating it by its word alone."""
    mark_outcome(
        bid=agreed, side=DealOutcome.Side.VENDOR, outcome=DealOutcome.Outcome.FELL_THROUGH, reason="Buyer vanished"
    )
    with pytest.raises(NotRateable):
        rate(bid=agreed, by=Rating.Side.CUSTOMER, score=1)
    mark_outcome(bid=agreed, side=DealOutcome.Side.CUSTOMER, outcome=DealOutcome.Outcome.COMPLETED, customer=customer)
    assert rate(bid=agreed, by=Rating.Side.CUSTOMER, score=1).score == 1
