"""The vendors' views of one intent (``intent_json_by_vendor``) read its bids and market only
when it has a bid, and her reveals only when she made one (her band and both probes come from
one statement): with none, or with some, the JSON is byte for byte what the full reads give."""

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from broker.pipeline import vendor_view
from broker.pipeline.vendor_view import intent_json_by_vendor
from reputation.models import CustomerScore
from reputation.selectors import customer_reputation
from tests.factories import VendorFactory
from vendors.models import IdentityReveal, Pseudonym
from vendors.relationships import identities_for_customer
from vendors.selectors import latest_bids_on, market
from vendors.services import place_bid

pytestmark = pytest.mark.django_db


def full_reads(intent, vendor_ids):
    """The views as built before the probe: bids and market always read."""
    handles = dict(Pseudonym.objects.filter(customer_id=intent.customer_id).values_list("vendor_id", "handle"))
    reputation = customer_reputation(intent.customer_id)
    bids = latest_bids_on(intent_id=intent.pk)
    identities = identities_for_customer(customer_id=intent.customer_id)
    markets = market(intent_ids=[intent.pk])
    return {
        vendor_id: json.dumps(
            vendor_view.intent_for_vendor(
                intent,
                handle=handles[vendor_id],
                customer_reputation=reputation,
                bid=bids.get(vendor_id),
                identity=identities.get(vendor_id),
                market=markets.get(intent.pk),
            )
        )
        for vendor_id in vendor_ids
    }


def test_the_views_with_and_without_bids_are_those_of_the_full_reads(customer, publish, subscribe):
    vendors = [VendorFactory() for _ in range(3)]
    for vendor in vendors:
        subscribe(vendor)
    intent = publish(customer)
    ids = [vendor.pk for vendor in vendors]
    fresh = intent_json_by_vendor(intent=intent, vendor_ids=ids)
    assert fresh == full_reads(intent, ids)
    assert all(json.loads(view)["market"] == {"offers": 0, "best_price": None} for view in fresh.values())

    place_bid(vendor=vendors[0], intent_id=intent.pk, amount=Decimal("900"), currency="GBP", message="Hi")
    place_bid(vendor=vendors[1], intent_id=intent.pk, amount=Decimal("850.50"), currency="GBP")
    with_bids = intent_json_by_vendor(intent=intent, vendor_ids=ids)
    assert with_bids == full_reads(intent, ids)
    assert json.loads(with_bids[vendors[2].pk])["market"]["offers"] == 2
    assert json.loads(with_bids[vendors[0].pk])["bid"]["message"] == "Hi"


@pytest.mark.parametrize(("ratings", "score"), [(0, None), (2, 4.9), (4, 4.61), (6, 3.5), (9, 2.2)])
def test_her_band_and_reveals_are_those_of_the_full_reads(customer, publish, subscribe, ratings, score):
    vendors = [VendorFactory() for _ in range(3)]
    for vendor in vendors:
        subscribe(vendor)
    intent = publish(customer)
    ids = [vendor.pk for vendor in vendors]
    CustomerScore.objects.create(
        customer=customer, ratings=ratings, weight=ratings, score=score, computed_at=timezone.now()
    )
    assert intent_json_by_vendor(intent=intent, vendor_ids=ids) == full_reads(intent, ids)

    IdentityReveal.objects.create(customer=customer, vendor=vendors[1], intent=intent, name="Ann", email="a@x.org")
    revealed = intent_json_by_vendor(intent=intent, vendor_ids=ids)
    assert revealed == full_reads(intent, ids)
    assert json.loads(revealed[vendors[1].pk])["customer"]["identity"]["name"] == "Ann"
    assert json.loads(revealed[vendors[0].pk])["customer"]["identity"] is None
