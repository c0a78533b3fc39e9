"""What keeps the API near its floor (bench/api.py measures it): constant queries per page, the
key remembered between requests (and forgotten the moment it is revoked or its vendor
suspended), a read that writes only the first time, no FilterSet without filter parameters, and
the bench's floor view routed by the bench's URLs only."""

import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from django_filters.rest_framework import FilterSet
from rest_framework.test import APIClient

from intents.models import Intent
from tests.factories import IntentFactory, UserFactory
from vendors import services
from vendors.models import ApiKey, Bid, Delivery
from vendors.relationships import ensure_pseudonyms
from vendors.services import authenticate_key, issue_api_key, place_bid, revoke_api_key, suspend_vendor

pytestmark = pytest.mark.django_db


def deliver(vendor, categories, regions, count, *, bids_every=3, open_format_every=2):
    """``count`` intents of as many customers in ``vendor``'s inbox, some with its bids (and
    photos of none), half open-format: every query of the inbox's view has rows to read."""
    intents = []
    for n in range(count):
        intent = IntentFactory(
            customer=UserFactory(),
            category=categories["cars"],
            region=regions["GB"],
            budget_max=Decimal(1000),
            currency="GBP",
            format=Intent.Format.OPEN if n % open_format_every == 0 else Intent.Format.SEALED,
        )
        ensure_pseudonyms(customer_id=intent.customer_id, vendor_ids=[vendor.pk])
        Delivery.objects.create(intent=intent, vendor=vendor)
        if n % bids_every == 0:
            place_bid(vendor=vendor, intent_id=intent.pk, amount=Decimal(900), currency="GBP")
        intents.append(intent)
    return intents


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code < 300, response.content
    return len(captured)


def test_every_endpoint_reads_as_much_for_50_items_as_for_5(vendor_client, categories, regions):
    intents = deliver(vendor_client.vendor, categories, regions, 50)
    vendor_client.get("/api/v1/me/")  # the key's first use is recorded once

    def inbox(size):
        response = vendor_client.get(f"/api/v1/intents/?page_size={size}")
        assert len(response.json()["results"]) == size
        return response

    # The categories' slugs, the regions' codes and the agreements' content are read once per
    # process (intents.selectors), at the first page that shows them: counted here once warm.
    inbox(50)
    few, many = queries(lambda: inbox(5)), queries(lambda: inbox(50))
    assert few == many
    assert queries(lambda: vendor_client.get("/api/v1/bids/?page_size=5")) == queries(
        lambda: vendor_client.get("/api/v1/bids/?page_size=50")
    )
    filtered = "/api/v1/intents/?category=vehicles&status=open&page_size={}"
    assert queries(lambda: vendor_client.get(filtered.format(5))) == queries(
        lambda: vendor_client.get(filtered.format(50))
    )
    # One request reads what a page does, plus its bid's counter and the vendor's answer to her
    # terms and the agreement reached (vendors.selectors.vendor_answer): a fixed number.
    assert queries(lambda: vendor_client.get(f"/api/v1/intents/{intents[0].pk}/")) <= few + 3


def test_a_read_of_one_intent_writes_only_the_first_time(vendor_client, categories, regions):
    intent = deliver(vendor_client.vendor, categories, regions, 1)[0]
    vendor_client.get("/api/v1/me/")
    url = f"/api/v1/intents/{intent.pk}/"
    with CaptureQueriesContext(connection) as first:
        vendor_client.get(url)
    seen_at = Delivery.objects.get(intent=intent).seen_at
    assert seen_at is not None and any(q["sql"].startswith("UPDATE") for q in first)
    with CaptureQueriesContext(connection) as again:
        assert vendor_client.get(url).json()["id"] == str(intent.pk)
    assert not any(q["sql"].startswith(("UPDATE", "INSERT", "DELETE")) for q in again)
    assert Delivery.objects.get(intent=intent).seen_at == seen_at


def test_the_key_is_looked_up_once_then_remembered(vendor_client):
    vendor_client.get("/api/v1/me/")
    with CaptureQueriesContext(connection) as captured:
        assert vendor_client.get("/api/v1/me/").status_code == 200
    assert not any('"vendors_apikey"' in q["sql"] for q in captured)


def test_a_revoked_key_is_refused_at_once_though_it_was_remembered(vendor):
    api_key, raw_key = issue_api_key(vendor=vendor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert client.get("/api/v1/me/").status_code == 200  # remembered now
    revoke_api_key(api_key=ApiKey.objects.get(pk=api_key.pk))
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Unknown or revoked API key."


def test_the_key_is_remembered_by_the_process_without_asking_the_cache(vendor, monkeypatch):
    _, raw_key = issue_api_key(vendor=vendor)
    assert authenticate_key(raw_key).vendor == vendor  # looked up, remembered
    asked = []
    monkeypatch.setattr(services.cache, "get", lambda *args, **kwargs: asked.append(args))
    again = authenticate_key(raw_key)
    assert again.vendor == vendor and asked == []


def test_each_request_gets_its_own_copy_of_the_remembered_key_and_vendor(vendor):
    _, raw_key = issue_api_key(vendor=vendor)
    first = authenticate_key(raw_key)
    first.vendor.name = "Changed by a request"
    first.name = "changed"
    second = authenticate_key(raw_key)
    assert second.vendor.name == vendor.name and second.name == "default"
    assert second is not first and second.vendor is not first.vendor


def test_a_key_revoked_in_another_process_is_refused_once_this_one_forgets_it(vendor):
    """Another web process revokes the key: this one, which remembered it, accepts it until its
    memory of it expires (KEY_MEMORY_SECONDS), then refuses it."""
    api_key, raw_key = issue_api_key(vendor=vendor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert client.get("/api/v1/me/").status_code == 200
    memory = dict(services._remembered_keys)
    revoke_api_key(api_key=ApiKey.objects.get(pk=api_key.pk))
    services._remembered_keys.update(memory)  # as the other process left this one's memory
    assert client.get("/api/v1/me/").status_code == 200
    forgotten_at, remembered = services._remembered_keys[api_key.digest]
    assert forgotten_at <= time.monotonic() + services.KEY_MEMORY_SECONDS
    services._remembered_keys[api_key.digest] = (time.monotonic() - 0.001, remembered)  # the seconds passed
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Unknown or revoked API key."


def test_a_vendor_suspended_in_another_process_is_refused_once_this_one_forgets_its_key(vendor_client):
    assert vendor_client.get("/api/v1/intents/").status_code == 200
    memory = dict(services._remembered_keys)
    suspend_vendor(vendor=vendor_client.vendor, actor=None, reason="Fake offers")
    services._remembered_keys.update(memory)
    assert vendor_client.get("/api/v1/intents/").status_code == 200  # within KEY_MEMORY_SECONDS
    services._remembered_keys.update({d: (time.monotonic() - 0.001, k) for d, (_, k) in memory.items()})
    assert vendor_client.get("/api/v1/intents/").status_code == 403


def test_a_suspended_vendor_is_refused_at_once_though_its_key_was_remembered(vendor_client):
    assert vendor_client.get("/api/v1/intents/").status_code == 200
    suspend_vendor(vendor=vendor_client.vendor, actor=None, reason="Fake offers")
    assert vendor_client.get("/api/v1/intents/").status_code == 403
    assert vendor_client.get("/api/v1/me/").json()["status"] == "suspended"  # /me/ stays open to it


def test_no_filterset_is_built_without_filter_parameters(vendor_client, monkeypatch):
    built = []
    original = FilterSet.__init__

    def counting(self, *args, **kwargs):
        built.append(type(self).__name__)
        original(self, *args, **kwargs)

    monkeypatch.setattr(FilterSet, "__init__", counting)
    assert vendor_client.get("/api/v1/intents/?page_size=5").status_code == 200
    assert built == []
    assert vendor_client.get("/api/v1/intents/?status=open").status_code == 200
    assert built == ["InboxFilter"]
    response = vendor_client.get("/api/v1/intents/?status=")  # validated as before
    assert response.status_code == 400 and "status" in response.json()["error"]["fields"]


def test_the_bench_floor_is_not_among_the_production_urls(settings):
    assert settings.ROOT_URLCONF == "broker.urls"
    with pytest.raises(Resolver404):
        resolve("/bench/floor/")
    assert resolve("/bench/floor/", urlconf="bench.urls").url_name == "bench-floor"
    assert resolve("/api/v1/intents/", urlconf="bench.urls").url_name == resolve("/api/v1/intents/").url_name


def test_bids_made_in_the_test_are_active(vendor_client, categories, regions):
    deliver(vendor_client.vendor, categories, regions, 3, bids_every=1)
    assert Bid.objects.filter(vendor=vendor_client.vendor, status=Bid.Status.ACTIVE).count() == 3


def test_a_bid_makes_a_fixed_number_of_queries(vendor_client, categories, regions):
    """Lock the request, read the vendor's standing on it (delivered, bidding, her terms
    answered, her handle) in one query, write the implicit answer, the agreement reached, the
    bid and her notification, read her email choice. One transaction (here, inside the test's,
    a savepoint and its release) and no savepoint inside it; the category's schema is
    remembered, the key too."""
    warm, counted = deliver(vendor_client.vendor, categories, regions, 3, bids_every=10)[1:]
    bid = {"amount": "900.00", "currency": "GBP"}
    assert vendor_client.post("/api/v1/bids/", {**bid, "intent": str(warm.pk)}, format="json").status_code == 201
    with CaptureQueriesContext(connection) as captured:
        response = vendor_client.post("/api/v1/bids/", {**bid, "intent": str(counted.pk)}, format="json")
    assert response.status_code == 201, response.content
    statements = [q["sql"].split()[0] for q in captured]
    assert statements.count("SAVEPOINT") == 1, statements
    assert len(captured) == 9, statements
