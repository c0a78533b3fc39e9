"""broker.core.bulk's writers: ``insert_new`` writes what ``insert_ignoring_conflicts`` writes,
whether or not some of the rows exist already (on PostgreSQL a ``COPY`` that falls back to the
conflict-skipping insert; elsewhere that insert)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError
from django.utils import timezone

from broker.core.bulk import insert_new
from tests.factories import IntentFactory, VendorFactory
from vendors.models import Delivery, Pseudonym
from vendors.services import save_subscription

pytestmark = pytest.mark.django_db


def test_insert_new_writes_every_row_when_none_exists(customer, categories, regions):
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB-LND"])
    vendors = [VendorFactory() for _ in range(3)]
    now = timezone.now()
    rows = [(intent.pk, vendor.pk, None, now) for vendor in vendors]

    assert insert_new(Delivery, ("intent", "vendor", "subscription", "created_at"), rows) == 3
    assert sorted(Delivery.objects.filter(intent=intent).values_list("vendor_id", flat=True)) == sorted(
        vendor.pk for vendor in vendors
    )
    assert insert_new(Delivery, ("intent", "vendor", "subscription", "created_at"), []) == 0


def test_insert_new_skips_the_rows_that_exist_and_leaves_the_transaction_usable(customer, vendor):
    others = [VendorFactory() for _ in range(2)]
    Pseudonym.objects.create(customer=customer, vendor=vendor, handle="c_existing")
    now = timezone.now()
    rows = [(customer.pk, vendor.pk, "c_again", now)] + [
        (customer.pk, other.pk, f"c_new{other.pk}", now) for other in others
    ]

    assert insert_new(Pseudonym, ("customer", "vendor", "handle", "created_at"), rows) == 2
    handles = dict(Pseudonym.objects.filter(customer=customer).values_list("vendor_id", "handle"))
    assert handles == {vendor.pk: "c_existing", **{other.pk: f"c_new{other.pk}" for other in others}}


def test_insert_new_takes_a_uuid_or_its_text(customer, categories, regions):
    """A fan-out part carries its subscriptions' ids as text; the COPY writes the same ids as
    from UUIDs, and so does the conflict-skipping insert it falls back to."""
    vendors = [VendorFactory() for _ in range(3)]
    subscriptions = [
        save_subscription(vendor=v, categories=[categories["cars"]], regions=[regions["GB"]]) for v in vendors
    ]
    ids = [s.pk for s in subscriptions]
    given = [ids[0], ids[1].hex, str(ids[2])]
    now = timezone.now()
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB-LND"])
    rows = [(intent.pk, v.pk, s, now) for v, s in zip(vendors, given, strict=True)]
    assert insert_new(Delivery, ("intent", "vendor", "subscription", "created_at"), rows) == 3
    written = dict(Delivery.objects.filter(intent=intent).values_list("vendor_id", "subscription_id"))
    assert written == {v.pk: s for v, s in zip(vendors, ids, strict=True)}

    again = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB-LND"])
    Delivery.objects.create(intent=again, vendor=vendors[0], subscription=subscriptions[0])  # the COPY then fails
    rows = [(again.pk, v.pk, s, now) for v, s in zip(vendors, given, strict=True)]
    assert insert_new(Delivery, ("intent", "vendor", "subscription", "created_at"), rows) == 2
    written = dict(Delivery.objects.filter(intent=again).values_list("vendor_id", "subscription_id"))
    assert written == {v.pk: s for v, s in zip(vendors, ids, strict=True)}


def test_insert_new_refuses_text_that_is_not_a_uuid(customer, categories, regions, vendor):
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB-LND"])
    with pytest.raises((ValueError, ValidationError, DataError)):
        insert_new(
            Delivery,
            ("intent", "vendor", "subscription", "created_at"),
            [(intent.pk, vendor.pk, "abc", timezone.now())],
        )
