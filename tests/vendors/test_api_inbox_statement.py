"""The inbox's statement (broker.pipeline.vendor_view, PostgreSQL) gives the same JSON, byte for
byte, as the ORM's annotated querysets it replaces there (and which SQLite still uses): every
page and cursor of the list, one intent, and the errors, for an inbox whose items have every
part of the vendor's view (bids, a withdrawn and a newer one, photos, an open market with another
vendor's offers, her score, what she told the vendor)."""

import base64
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

import broker.api.views
from intents.models import Intent
from reputation.models import CustomerScore
from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors.deal import withdraw_bid
from vendors.models import Bid, BidPhoto, Delivery, IdentityReveal
from vendors.relationships import ensure_pseudonyms
from vendors.services import place_bid

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(vendor_client, categories, regions):
    vendor, other = vendor_client.vendor, VendorFactory(name="Other dealer")
    intents = []
    for n in range(12):
        customer = UserFactory()
        intent = IntentFactory(
            customer=customer,
            category=categories["cars"],
            region=regions["GB"],
            budget_max=Decimal(1000) if n % 4 else None,
            currency="GBP",
            format=Intent.Format.OPEN if n % 2 == 0 else Intent.Format.SEALED,
            sealed_until=None if n % 2 == 0 else timezone.now() + timedelta(days=1),
            attributes={"colour": "red", "doors": n},
        )
        ensure_pseudonyms(customer_id=customer.pk, vendor_ids=[vendor.pk, other.pk])
        for each in (vendor, other):
            Delivery.objects.create(intent=intent, vendor=each)
        if n % 3 == 0:
            place_bid(vendor=other, intent_id=intent.pk, amount=Decimal(800 + n), currency="GBP")
        if n % 2 == 0:
            bid = place_bid(vendor=vendor, intent_id=intent.pk, amount=Decimal(900), currency="GBP", message="Hi")
            if n % 4 == 0:  # withdrawn, then a newer one: the newer is the one shown
                withdraw_bid(vendor=vendor, bid=bid)
                bid = place_bid(vendor=vendor, intent_id=intent.pk, amount=Decimal("850.50"), currency="GBP")
            if n == 6:
                BidPhoto.objects.create(
                    bid=bid, image="bid-photos/x.jpg", width=64, height=48, content_type="image/jpeg",
                    byte_size=100, position=0,
                )  # fmt: skip
        if n == 3:
            CustomerScore.objects.create(customer=customer, ratings=6, weight=6, score=4.61, computed_at=timezone.now())
        if n == 5:
            IdentityReveal.objects.create(customer=customer, vendor=vendor, intent=intent, name="Ann", email="a@x.org")
        intents.append(intent)
    Delivery.objects.filter(vendor=vendor, intent=intents[1]).update(seen_at=timezone.now())
    assert Bid.objects.filter(vendor=vendor).count() == 9
    return intents


def both_ways(client, monkeypatch, url):
    """The response to ``url`` from the statement, then from the ORM."""
    answers = []
    for statement in (True, False):
        monkeypatch.setattr(broker.api.views, "inbox_statement_applies", lambda statement=statement: statement)
        response = client.get(url)
        answers.append((response.status_code, response.content))
    return answers


def cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_the_statement_and_the_orm_give_the_same_json(vendor_client, inbox, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the statement is PostgreSQL's")
    urls = ["/api/v1/intents/", "/api/v1/intents/?page_size=1", "/api/v1/intents/?page_size=200"]
    # Follow next links forwards, then previous links back, by pages of 5.
    url, seen = "/api/v1/intents/?page_size=5", 0
    while url:
        urls.append(url)
        page = vendor_client.get(url).json()
        seen += len(page["results"])
        url = page["next"] and page["next"].split("testserver", 1)[1]
    assert seen == 12
    url = page["previous"].split("testserver", 1)[1]
    while url:
        urls.append(url)
        url = vendor_client.get(url).json()["previous"]
        url = url and url.split("testserver", 1)[1]
    urls += [f"/api/v1/intents/{intent.pk}/" for intent in inbox]
    urls += [
        "/api/v1/intents/00000000-0000-0000-0000-000000000000/",  # not delivered: 404
        f"/api/v1/intents/?cursor={cursor('p=abc')}",  # 400
        f"/api/v1/intents/?cursor={cursor('p=' + '9' * 30)}",  # beyond the column: everything
        f"/api/v1/intents/?cursor={cursor('r=1&p=' + '9' * 30)}",  # nothing
        f"/api/v1/intents/?cursor={cursor('o=2&p=' + str(Delivery.objects.order_by('-id')[3].pk))}&page_size=3",
    ]
    statuses = set()
    for url in urls:
        statement, orm = both_ways(vendor_client, monkeypatch, url)
        assert statement == orm, url
        statuses.add(statement[0])
    assert statuses == {200, 400, 404}
    views = {item["id"]: item for item in vendor_client.get("/api/v1/intents/").json()["results"]}
    shown = [views[str(intent.pk)] for intent in inbox]
    assert shown[6]["bid"]["photos"] and shown[5]["customer"]["identity"]["name"] == "Ann"
    assert shown[3]["customer"]["reputation"]["band"] == "excellent"
    assert shown[0]["bid"]["price"] == {"amount": "850.50", "currency": "GBP"}
    assert shown[0]["market"] == {"offers": 2, "best_price": {"amount": "800.00", "currency": "GBP"}}


def test_one_intent_from_the_statement_is_marked_seen_once(vendor_client, inbox, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the statement is PostgreSQL's")
    monkeypatch.setattr(broker.api.views, "inbox_statement_applies", lambda: True)
    delivery = Delivery.objects.get(vendor=vendor_client.vendor, intent=inbox[0])
    assert delivery.seen_at is None
    assert vendor_client.get(f"/api/v1/intents/{inbox[0].pk}/").status_code == 200
    delivery.refresh_from_db()
    seen_at = delivery.seen_at
    assert seen_at is not None
    vendor_client.get(f"/api/v1/intents/{inbox[0].pk}/")
    delivery.refresh_from_db()
    assert delivery.seen_at == seen_at
