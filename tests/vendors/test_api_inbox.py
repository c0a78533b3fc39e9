from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors.models import Delivery

pytestmark = pytest.mark.django_db


def test_inbox_lists_delivered_intents_newest_first(vendor_client, customer, publish, subscribe, categories):
    subscribe(vendor_client.vendor)
    first = publish(customer, title="First Yaris")
    second = publish(customer, title="Second Yaris")
    body = vendor_client.get("/api/v1/intents/").json()
    assert [i["id"] for i in body["results"]] == [str(second.pk), str(first.pk)]
    intent = body["results"][0]
    assert intent["category"] == "cars" and intent["region"] == "GB-LND"
    assert intent["budget"] == {"amount": "4000.00", "currency": "GBP"}
    assert intent["attributes"]["trim"] == ["T3", "TR"]
    assert intent["terms"]["contact_through_broker_only"] is True
    assert intent["bid"] is None
    assert intent["customer"]["reputation"] == {"band": "new", "rated_deals": "0"}


def test_inbox_omits_intents_not_delivered(vendor_client, customer, publish, subscribe, regions):
    subscribe(vendor_client.vendor, regions=[regions["FR"]])
    publish(customer)
    assert vendor_client.get("/api/v1/intents/").json()["results"] == []


def test_inbox_filters_by_status_category_and_since(vendor_client, customer, publish, subscribe, categories):
    subscribe(vendor_client.vendor, categories=[categories["vehicles"]])
    car = publish(customer)
    van = publish(customer, category=categories["vans"], attributes={}, title="A van")
    Delivery.objects.filter(intent=car).update(created_at=timezone.now() - timedelta(days=3))

    def ids(**params):
        response = vendor_client.get("/api/v1/intents/", params)
        assert response.status_code == 200, response.json()
        return {i["id"] for i in response.json()["results"]}

    assert ids(category="cars") == {str(car.pk)}
    assert ids(category="vehicles") == {str(car.pk), str(van.pk)}
    assert ids(since=(timezone.now() - timedelta(days=1)).isoformat()) == {str(van.pk)}
    assert ids(status="open") == {str(car.pk), str(van.pk)}
    assert ids(status="accepted") == set()


@pytest.mark.parametrize(("param", "value"), [("status", "sideways"), ("since", "yesterday-ish")])
def test_bad_inbox_filter_is_400(vendor_client, param, value):
    response = vendor_client.get("/api/v1/intents/", {param: value})
    assert response.status_code == 400
    assert param in response.json()["error"]["fields"]


def test_inbox_pages_with_a_cursor(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    published = [publish(customer, title=f"Yaris {n}") for n in range(5)]
    page = vendor_client.get("/api/v1/intents/", {"page_size": 2}).json()
    seen = [i["id"] for i in page["results"]]
    while page["next"]:
        page = vendor_client.get(page["next"]).json()
        seen += [i["id"] for i in page["results"]]
    assert seen == [str(i.pk) for i in reversed(published)]


def test_inbox_query_count_does_not_grow_with_intents(
    vendor_client, customer, publish, subscribe, django_assert_max_num_queries
):
    subscribe(vendor_client.vendor)
    for n in range(3):
        publish(UserFactory(username=f"buyer{n}"))
    with django_assert_max_num_queries(8):
        vendor_client.get("/api/v1/intents/")
    for n in range(3, 12):
        publish(UserFactory(username=f"buyer{n}"))
    with django_assert_max_num_queries(8):
        assert len(vendor_client.get("/api/v1/intents/").json()["results"]) == 12


def test_one_intent_marks_it_seen(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    intent = publish(customer)
    response = vendor_client.get(f"/api/v1/intents/{intent.pk}/")
    assert response.status_code == 200 and response.json()["title"] == intent.title
    assert Delivery.objects.get(intent=intent).seen_at is not None


def test_intent_not_delivered_is_404(vendor_client, customer, categories, regions):
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"])
    response = vendor_client.get(f"/api/v1/intents/{intent.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert vendor_client.post(f"/api/v1/intents/{intent.pk}/pass/").status_code == 404


def test_intent_delivered_to_another_vendor_is_404(vendor_client, customer, publish, subscribe):
    other = VendorFactory()
    subscribe(other)
    intent = publish(customer)
    assert Delivery.objects.filter(intent=intent, vendor=other).exists()
    assert vendor_client.get(f"/api/v1/intents/{intent.pk}/").status_code == 404


def test_pass_records_not_interested(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    intent = publish(customer)
    assert vendor_client.post(f"/api/v1/intents/{intent.pk}/pass/").status_code == 204
    assert Delivery.objects.get(intent=intent).passed_at is not None


def test_vendor_block_stops_later_requests(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    first = publish(customer)
    assert vendor_client.post(f"/api/v1/intents/{first.pk}/block/").status_code == 204
    second = publish(customer)
    assert not Delivery.objects.filter(intent=second).exists()


def test_since_in_any_offset_is_compared_in_utc(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    publish(customer)
    # Found by schemathesis: PostgreSQL refuses offsets beyond ±15:59, Python accepts them.
    response = vendor_client.get("/api/v1/intents/", {"since": "0485-06-07T20:58:58+16:32"})
    assert response.status_code == 200 and len(response.json()["results"]) == 1
