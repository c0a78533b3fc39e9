"""broker.core.bulk's writers: ``insert_new`` writes what ``insert_ignoring_conflicts`` writes,
whether or not some of the rows exist already (on PostgreSQL a ``COPY`` that falls back to the
conflict-skipping insert; elsewhere that insert)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from broker.core.bulk import insert_new
from tests.factories import IntentFactory, VendorFactory
from vendors.models import Delivery, Pseudonym

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
