"""A vendor's public profile: its own words and figures over all its deals, linked from each
offer; nothing one customer did."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from intents.models import Intent
from reputation.models import Rating
from reputation.services import rate, refresh_behaviour
from tests.factories import IntentFactory, VendorFactory
from vendors.models import Bid, DealOutcome, Vendor
from vendors.relationships import ensure_pseudonyms
from vendors.services import place_bid

pytestmark = pytest.mark.django_db


@pytest.fixture
def vendor_with_a_deal(categories, regions, customer):
    vendor = VendorFactory(
        name="Croydon Motors", description="Family dealer since 1987.", website="https://croydon.example"
    )
    vendor.categories.set([categories["cars"]])
    vendor.regions.set([regions["GB"]])
    intent = IntentFactory(
        customer=customer,
        title="Red Honda Jazz for my daughter",
        category=categories["cars"],
        region=regions["GB-LND"],
        status=Intent.Status.COMPLETED,
    )
    bid = Bid.objects.create(
        intent=intent,
        vendor=vendor,
        amount=1000,
        currency="GBP",
        terms_accepted={},
        status=Bid.Status.ACCEPTED,
        decided_at=timezone.now(),
    )
    DealOutcome.objects.create(bid=bid, side=DealOutcome.Side.CUSTOMER, outcome="completed")
    rate(bid=bid, by=Rating.Side.CUSTOMER, score=5, comment="Alice loved the Jazz, thanks Bob!")
    rate(bid=bid, by=Rating.Side.VENDOR, score=5, comment="Prompt payer")
    refresh_behaviour(vendor_ids=[vendor.pk])  # the deal was written beside the services
    return vendor, intent


def test_the_profile_shows_the_vendor_and_its_figures(vendor_with_a_deal):
    vendor, _ = vendor_with_a_deal
    page = Client().get(f"/vendors/{vendor.pk}/profile/").content.decode()
    assert "Croydon Motors" in page and "Family dealer since 1987." in page
    assert "On intentcast since" in page and "https://croydon.example" in page
    assert "5.0 / 5 from 1 rated deal" in page or "/ 5 from 1 rated deal" in page
    assert "Deals completed</dt><dd>1</dd>" in page
    assert "Cars" in page and "United Kingdom" in page


def test_the_profile_shows_nothing_a_customer_did(vendor_with_a_deal, customer):
    vendor, intent = vendor_with_a_deal
    handle = ensure_pseudonyms(customer_id=customer.pk, vendor_ids=[vendor.pk])[vendor.pk]
    page = Client().get(f"/vendors/{vendor.pk}/profile/").content.decode()
    for secret in (
        customer.email,
        customer.username,
        handle,
        intent.title,
        str(intent.pk),
        "Alice loved the Jazz",
        "Prompt payer",
        "London",
    ):
        assert secret not in page, secret


def test_only_approved_vendors_have_a_profile(db):
    for status in (Vendor.Status.PENDING, Vendor.Status.REJECTED, Vendor.Status.SUSPENDED):
        vendor = VendorFactory(status=status)
        assert Client().get(f"/vendors/{vendor.pk}/profile/").status_code == 404


def test_her_offers_link_the_profile(customer, publish, subscribe, vendor):
    subscribe(vendor)
    intent = publish(customer)
    place_bid(
        vendor=vendor,
        intent_id=intent.pk,
        amount=Decimal("3500"),
        currency="GBP",
        message="A 2019 Yaris, HPI clear.",
        offered_attributes={"make": "Toyota"},
    )
    client = Client()
    client.force_login(customer)
    page = client.get(f"/requests/{intent.pk}/").content.decode()
    assert f'href="/vendors/{vendor.pk}/profile/"' in page
