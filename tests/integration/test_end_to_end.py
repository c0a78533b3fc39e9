"""The whole path with a real Celery worker on Redis: a customer's Yaris request reaches the
right vendors, two of them bid through the API, she accepts one, the other is declined."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from broker.models import OutboxEvent
from intents.models import Intent
from tests.integration.conftest import wait_for
from vendors.models import Delivery, Vendor
from vendors.services import create_vendor, issue_api_key

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def vendor_api(name: str, *, approve: bool = True, **subscription) -> APIClient:
    vendor = create_vendor(name=name, contact_email=f"{name.lower().replace(' ', '.')}@example.com", approve=approve)
    _, key = issue_api_key(vendor=vendor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.vendor = vendor
    if not approve:  # a pending vendor cannot call the API yet; its subscription predates review
        Vendor.objects.filter(pk=vendor.pk).update(status=Vendor.Status.APPROVED)
    response = client.post("/api/v1/subscriptions/", subscription, format="json")
    assert response.status_code == 201, response.json()
    if not approve:
        Vendor.objects.filter(pk=vendor.pk).update(status=Vendor.Status.PENDING)
    return client


def test_yaris_request_reaches_the_right_vendors_who_bid_and_one_is_accepted(
    start_worker, client, customer, categories, regions
):
    worker = start_worker()
    gb_dealer = vendor_api("GB Cars", categories=["cars"], regions=["GB"])
    london_dealer = vendor_api("London Cars", categories=["vehicles"], regions=["GB-LND"], keywords=["yaris"])
    phones = vendor_api("Phone Shop", categories=["phones"], regions=["GB"])
    fords_only = vendor_api(
        "Ford Only", categories=["cars"], regions=["GB"], attribute_filters={"make": {"in": ["Ford"]}}
    )
    unapproved = vendor_api("Not Yet", approve=False, categories=["cars"], regions=["GB"])

    # The customer posts her request on the website.
    client.force_login(customer)
    response = client.post(
        f"{reverse('intents:new')}?category={categories['cars'].pk}&country=GB",
        {
            "title": "Low-mileage Toyota Yaris, T3 or TR spec",
            "details": "Silver, UK, aircon, ideally 1.3 petrol, five doors.",
            "attr_make": "Toyota",
            "attr_trim": ["T3", "TR"],
            "attr_mileage": "40000",
            "attr_aircon": "true",
            "attr_fuel": "petrol",
            "attr_engine_size": "1.3",
            "attr_doors": "5",
            "attr_colour": "silver",
            "region": "GB",
            "budget_max": "4000",
            "currency": "GBP",
            "contact_through_broker_only": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    intent = Intent.objects.get()

    wait_for(  # two vendors: their inboxes and events in one step, one outbox event
        lambda: OutboxEvent.objects.count() == 1 and not OutboxEvent.objects.filter(processed_at__isnull=True).exists(),
        30,
        message="the fan-out and the vendors' events",
    )
    assert "broker.core.outbox.process_outbox_event" in worker.output()  # the worker did it, not this process
    delivered = set(Delivery.objects.filter(intent=intent).values_list("vendor_id", flat=True))
    assert delivered == {gb_dealer.vendor.pk, london_dealer.vendor.pk}
    for outsider in (phones, fords_only):
        assert outsider.get(f"/api/v1/intents/{intent.pk}/").status_code == 404
    assert unapproved.vendor.pk not in delivered

    bids = {}
    for dealer, amount in ((gb_dealer, "3900"), (london_dealer, "3650")):
        inbox = dealer.get("/api/v1/intents/").json()["results"]
        assert [i["id"] for i in inbox] == [str(intent.pk)]
        response = dealer.post(
            "/api/v1/bids/",
            {"intent": str(intent.pk), "amount": amount, "currency": "GBP", "offered_attributes": {"make": "Toyota"}},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"bid-{intent.pk}",
        )
        assert response.status_code == 201, response.json()
        bids[dealer] = response.json()["id"]

    detail = client.get(reverse("intents:detail", args=[intent.pk]))
    assert detail.status_code == 200, detail
    page = detail.content.decode()
    assert "GB Cars" in page and "London Cars" in page  # side by side
    client.post(reverse("intents:accept", args=[intent.pk, bids[london_dealer]]))

    assert london_dealer.get(f"/api/v1/bids/{bids[london_dealer]}/").json()["status"] == "accepted"
    assert gb_dealer.get(f"/api/v1/bids/{bids[gb_dealer]}/").json()["status"] == "declined"
    assert [e["type"] for e in london_dealer.get("/api/v1/events/").json()["results"]] == [
        "intent.matched",
        "bid.accepted",
    ]
    assert [e["type"] for e in gb_dealer.get("/api/v1/events/").json()["results"]] == ["intent.matched", "bid.declined"]
    late = gb_dealer.post(
        "/api/v1/bids/", {"intent": str(intent.pk), "amount": "3000", "currency": "GBP"}, format="json"
    )
    assert late.status_code == 409
