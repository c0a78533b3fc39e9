"""``vendors.services.deliver``: on PostgreSQL the usual audience's deliveries are written by the
statement that reads and makes the customer's handles; otherwise the handles come first and the
deliveries after (``insert_new``). Both ways write the same rows."""

from __future__ import annotations

import re

import psycopg
import pytest
from django.db import connection

from tests.factories import IntentFactory, VendorFactory
from vendors import services
from vendors.models import Delivery, Pseudonym
from vendors.relationships import ensure_pseudonyms, new_handles

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["postgresql-one-statement", "handles-then-deliveries"])
def either_way(request, monkeypatch):
    """``deliver`` as it runs on PostgreSQL (one statement) and as it runs elsewhere."""
    if request.param == "postgresql-one-statement":
        if connection.vendor != "postgresql":
            pytest.skip("the one-statement way is PostgreSQL's")
    else:
        monkeypatch.setattr(services, "in_one_statement", lambda vendors: False)
    return request.param


def test_deliver_writes_alike_both_ways(customer, categories, regions, subscribe, either_way):
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB-LND"])
    vendors = [VendorFactory() for _ in range(4)]
    subscription = subscribe(vendors[0])
    known = ensure_pseudonyms(customer_id=customer.pk, vendor_ids=[vendors[1].pk])  # an earlier contact
    matches = [(vendors[0].pk, subscription.pk)] + [(vendor.pk, None) for vendor in vendors[1:3]]

    handles = services.deliver(intent=intent, matches=matches)
    again = services.deliver(intent=intent, matches=[*matches, (vendors[3].pk, None)])  # one more: only it is new

    assert handles[vendors[1].pk] == known[vendors[1].pk]
    assert set(handles) == {vendor.pk for vendor in vendors[:3]} and len(set(handles.values())) == 3
    assert again == {**handles, vendors[3].pk: again[vendors[3].pk]}
    assert dict(Pseudonym.objects.filter(customer=customer).values_list("vendor_id", "handle")) == again
    assert sorted(Delivery.objects.filter(intent=intent).values_list("vendor_id", "subscription_id")) == sorted(
        [(vendors[0].pk, subscription.pk)] + [(vendor.pk, None) for vendor in vendors[1:]]
    )


def test_deliver_is_one_statement_on_postgresql(customer, categories, regions, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement way is PostgreSQL's")
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB-LND"])
    vendors = [VendorFactory() for _ in range(3)]
    connection.ensure_connection()
    # Counted on the driver's cursor: the statement is bound by the server and prepared, on
    # psycopg's own cursor, which Django's query log does not see.
    sent = []
    execute = psycopg.Cursor.execute
    monkeypatch.setattr(
        psycopg.Cursor,
        "execute",
        lambda cursor, query, *args, **kwargs: sent.append(query) or execute(cursor, query, *args, **kwargs),
    )
    handles = services.deliver(intent=intent, matches=[(vendor.pk, None) for vendor in vendors])
    assert len(sent) == 1
    assert len(handles) == 3 and Delivery.objects.filter(intent=intent).count() == 3


def test_a_handle_made_elsewhere_meanwhile_is_read_back(customer, categories, regions, monkeypatch):
    """The one statement leaves out a pair another transaction made after its read began (its
    insert skips it); ``ensure_pseudonyms`` then reads that handle rather than making a second."""
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB-LND"])
    vendor = VendorFactory()
    Pseudonym.objects.create(customer=customer, vendor=vendor, handle="c_made_elsewhere")
    monkeypatch.setattr(services, "_deliver_in_one_statement", lambda **kwargs: {})  # it saw nothing
    monkeypatch.setattr(services, "in_one_statement", lambda vendors: True)
    assert services.deliver(intent=intent, matches=[(vendor.pk, None)]) == {vendor.pk: "c_made_elsewhere"}


def test_deliver_takes_a_subscriptions_id_as_text_alike(customer, categories, regions, subscribe, either_way):
    """A fan-out part names its subscriptions by their ids' text (``UUID.hex``)."""
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB-LND"])
    vendors = [VendorFactory() for _ in range(2)]
    subscriptions = [subscribe(vendor) for vendor in vendors]
    services.deliver(
        intent=intent, matches=[(vendors[0].pk, subscriptions[0].pk.hex), (vendors[1].pk, subscriptions[1].pk)]
    )
    assert sorted(Delivery.objects.filter(intent=intent).values_list("vendor_id", "subscription_id")) == sorted(
        (vendor.pk, subscription.pk) for vendor, subscription in zip(vendors, subscriptions, strict=True)
    )


def test_new_handles_are_random_and_distinct():
    handles = new_handles(1000)
    assert len(handles) == 1000 == len(set(handles))
    assert all(re.fullmatch(r"c_[0-9a-f]{16}", handle) for handle in handles)
    assert new_handles(0) == []
