"""Principle 6, nothing is lost: a worker killed in the middle of a large fan-out, Redis down
while a request is published, a webhook that fails once. Run alone with ``pytest -m reliability``
(add ``-s`` to see how long each recovery took).

The workers run with the production sweeps (``PIPELINE_SWEEP_SECONDS``,
``OUTBOX_REDISPATCH_AFTER_SECONDS`` left at their defaults). Each test prints how long recovery
took, the figure the targets are about (seconds); it asserts only that the work is done exactly
once within a generous bound: timings on a shared machine are not a test's business."""

import time
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from broker.models import OutboxEvent
from intents.services import publish_intent
from tests.broker.receiver import Receiver
from tests.integration.conftest import wait_for
from vendors.models import Delivery, Subscription, SubscriptionKey, Vendor, VendorEvent, WebhookAttempt, WebhookDelivery
from vendors.services import save_subscription
from vendors.webhooks import register_endpoint

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

# The production defaults, whatever the environment running the tests says.
PRODUCTION_SWEEPS = {"PIPELINE_SWEEP_SECONDS": "1", "OUTBOX_REDISPATCH_AFTER_SECONDS": "5"}
# The 15,000-vendor audience is cast in two parts (with the default FANOUT_PART_MIN, in one).
IN_PARTS = {"FANOUT_PARTS": "2", "FANOUT_PART_MIN": "5000"}


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
    first = start_worker(extra_env=IN_PARTS)

    intent = publish_intent(
        customer=customer, title="Any small hatchback", category=categories["cars"], region=regions["GB"]
    )
    wait_for(fan_out_in_progress, 30, interval=0.005, message="the worker to start the fan-out")
    first.kill()
    event = OutboxEvent.objects.get(kind="intent.published")
    assert event.processed_at is None, "the worker finished before it was killed; the test proved nothing"

    start_worker(beat=True, extra_env={**PRODUCTION_SWEEPS, **IN_PARTS})
    started = time.monotonic()
    wait_for(
        lambda: Delivery.objects.filter(intent=intent).count() == len(vendor_ids), 120, interval=0.05, message="inboxes"
    )
    inboxes = time.monotonic() - started
    wait_for(cast_completely, 120, message="the redispatch, the parts and the vendors' events")
    print(f"\nworker killed mid fan-out: {len(vendor_ids):,} inboxes filled {inboxes:.1f} s after a new worker started")
    assert_delivered_once(intent, vendor_ids)


def test_worker_killed_mid_part_leaves_the_part_to_be_cast_again(start_worker, customer, categories, regions):
    vendor_ids = many_subscribed_vendors(15_000, categories["cars"], regions["GB"])
    first = start_worker(extra_env=IN_PARTS)

    intent = publish_intent(
        customer=customer, title="Any small hatchback", category=categories["cars"], region=regions["GB"]
    )
    wait_for(
        lambda: (
            OutboxEvent.objects.filter(kind="intent.published", processed_at__isnull=False).exists()
            and fan_out_in_progress()
        ),
        30,
        interval=0.005,
        message="the worker to start casting a part",
    )
    first.kill()
    assert OutboxEvent.objects.filter(kind="intent.part", processed_at__isnull=True).exists(), (
        "the worker finished its parts before it was killed; the test proved nothing"
    )

    start_worker(beat=True, extra_env={**PRODUCTION_SWEEPS, **IN_PARTS})
    started = time.monotonic()
    wait_for(
        lambda: Delivery.objects.filter(intent=intent).count() == len(vendor_ids), 120, interval=0.05, message="inboxes"
    )
    print(f"\nworker killed mid part: {len(vendor_ids):,} inboxes filled {time.monotonic() - started:.1f} s after a new"
          " worker started")  # fmt: skip
    wait_for(cast_completely, 120, message="the redispatch, the parts and the vendors' events")
    assert_delivered_once(intent, vendor_ids)


def cast_completely() -> bool:
    """The request matched, each of its two parts cast (``FANOUT_PARTS``) and each part's
    vendors told: every outbox event written and processed."""
    kinds = sorted(OutboxEvent.objects.values_list("kind", flat=True))
    expected = ["intent.delivered", "intent.delivered", "intent.part", "intent.part", "intent.published"]
    return kinds == expected and not OutboxEvent.objects.filter(processed_at__isnull=True).exists()


def assert_delivered_once(intent, vendor_ids: list[int]) -> None:
    deliveries = Delivery.objects.filter(intent=intent)
    assert deliveries.count() == len(vendor_ids)
    assert set(deliveries.values_list("vendor_id", flat=True)) == set(vendor_ids)
    assert VendorEvent.objects.filter(kind="intent.matched", subject=str(intent.pk)).count() == len(vendor_ids)


def test_request_published_while_redis_is_down_is_delivered_when_it_is_back(
    start_worker, queue_on, customer, vendor, categories, regions
):
    save_subscription(vendor=vendor, categories=[categories["cars"]], regions=[regions["GB"]])
    worker = start_worker(beat=True, extra_env=PRODUCTION_SWEEPS)

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

    time.sleep(5)  # an outage long enough for the worker to have noticed it
    queue_on.start()
    back = time.monotonic()
    wait_for(
        lambda: Delivery.objects.filter(intent=intent, vendor=vendor).exists(),
        90,
        interval=0.05,
        message="the delivery",
    )
    print(f"\nRedis down at publication: the inbox filled {time.monotonic() - back:.1f} s after Redis returned")
    assert Delivery.objects.filter(intent=intent).count() == 1
    assert "redispatch_outbox" in worker.output()


def test_a_failed_webhook_is_retried_at_its_planned_time(start_worker, customer, vendor, categories, regions):
    save_subscription(vendor=vendor, categories=[categories["cars"]], regions=[regions["GB"]])
    with Receiver(statuses=[500]) as receiver:
        register_endpoint(vendor=vendor, url=receiver.url, events=["intent.matched"])
        start_worker(beat=True, extra_env=PRODUCTION_SWEEPS)
        publish_intent(customer=customer, title="Toyota Yaris", category=categories["cars"], region=regions["GB"])

        delivery = wait_for(
            lambda: WebhookDelivery.objects.filter(attempt_count=1).first(), 60, message="the first attempt"
        )
        planned = delivery.next_attempt_at
        wait_for(
            lambda: WebhookDelivery.objects.filter(status="succeeded").exists(), 60, message="the retry to succeed"
        )
    retried = WebhookAttempt.objects.get(succeeded=True).attempted_at
    print(f"\nwebhook retry planned {planned:%H:%M:%S.%f}, sent {(retried - planned).total_seconds():+.1f} s from it")
    attempts = list(WebhookAttempt.objects.order_by("attempted_at").values_list("response_status", "succeeded"))
    assert attempts == [(500, False), (204, True)]
    assert len(receiver.requests) == 2
    assert receiver.requests[0][0]["webhook-id"] == receiver.requests[1][0]["webhook-id"]
