"""Principle 6, nothing is lost: a worker killed in the middle of a large fan-out, and Redis
down while a request is published. Run alone with ``pytest -m reliability``."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection

from broker.models import OutboxEvent
from intents.services import publish_intent
from tests.integration.conftest import wait_for
from vendors.models import Delivery, Subscription, SubscriptionKey, Vendor, VendorEvent
from vendors.services import save_subscription

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

FAST_SWEEP = {"PIPELINE_SWEEP_SECONDS": "1", "OUTBOX_REDISPATCH_AFTER_SECONDS": "2"}


def many_subscribed_vendors(count: int, category, region) -> list[int]:
    """``count`` approved vendors subscribed to ``category`` in ``region``, written in bulk."""
    vendors = Vendor.objects.bulk_create(
        [
            Vendor(name=f"Dealer {n}", contact_email=f"d{n}@example.com", status=Vendor.Status.APPROVED)
            for n in range(count)
        ]
    )
    subscriptions = Subscription.objects.bulk_create([Subscription(id=uuid.uuid4(), vendor=v) for v in vendors])
    Subscription.categories.through.objects.bulk_create(
        [Subscription.categories.through(subscription_id=s.pk, category_id=category.pk) for s in subscriptions]
    )
    Subscription.regions.through.objects.bulk_create(
        [Subscription.regions.through(subscription_id=s.pk, region_id=region.pk) for s in subscriptions]
    )
    SubscriptionKey.objects.bulk_create(
        [
            SubscriptionKey(subscription=s, category_id=category.pk, stem="", region_lft=region.lft)
            for s in subscriptions
        ],
        batch_size=5000,
    )
    return [v.pk for v in vendors]


def fan_out_in_progress() -> bool:
    """Another connection (the worker) is inside a transaction right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND state <> 'idle'"
        )
        return cursor.fetchone()[0] > 0


def test_worker_killed_mid_fan_out_loses_nothing_and_duplicates_nothing(start_worker, customer, categories, regions):
    vendor_ids = many_subscribed_vendors(15_000, categories["cars"], regions["GB"])
    first = start_worker()

    intent = publish_intent(
        customer=customer, title="Any small hatchback", category=categories["cars"], region=regions["GB"]
    )
    wait_for(fan_out_in_progress, 30, interval=0.005, message="the worker to start the fan-out")
    first.kill()
    event = OutboxEvent.objects.get(kind="intent.published")
    assert event.processed_at is None, "the worker finished before it was killed; the test proved nothing"

    start_worker(beat=True, extra_env=FAST_SWEEP)
    wait_for(
        lambda: OutboxEvent.objects.count() == 2 and not OutboxEvent.objects.filter(processed_at__isnull=True).exists(),
        120,
        message="the redispatch, the deliveries and the vendors' events",
    )

    deliveries = Delivery.objects.filter(intent=intent)
    assert deliveries.count() == len(vendor_ids)
    assert set(deliveries.values_list("vendor_id", flat=True)) == set(vendor_ids)
    assert VendorEvent.objects.filter(kind="intent.matched", subject=str(intent.pk)).count() == len(vendor_ids)


def test_request_published_while_redis_is_down_is_delivered_when_it_is_back(
    start_worker, queue_on, customer, vendor, categories, regions
):
    save_subscription(vendor=vendor, categories=[categories["cars"]], regions=[regions["GB"]])
    worker = start_worker(beat=True, extra_env=FAST_SWEEP)

    queue_on.stop()
    intent = publish_intent(
        customer=customer,
        title="Toyota Yaris",
        category=categories["cars"],
        region=regions["GB-LND"],
        budget_max=Decimal("4000"),
        currency="GBP",
    )
    event = OutboxEvent.objects.get(kind="intent.published")
    assert event.dispatched_at is None and event.processed_at is None  # saved, not lost, not sent
    assert not Delivery.objects.exists()

    queue_on.start()
    wait_for(lambda: Delivery.objects.filter(intent=intent, vendor=vendor).exists(), 90, message="the delivery")
    assert Delivery.objects.filter(intent=intent).count() == 1
    assert "redispatch_outbox" in worker.output()
