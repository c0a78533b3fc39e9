from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from broker.celery import ConnectionReusingWorkerFixup, app
from broker.core import outbox
from broker.models import OutboxEvent
from broker.pipeline.fanout import deliver_intent, notify_matched
from broker.pipeline.handlers import HANDLERS
from intents.models import Intent
from intents.services import publish_intent
from tests.factories import VendorFactory
from vendors.models import Delivery, Pseudonym, VendorEvent

pytestmark = pytest.mark.django_db


def test_intent_and_its_event_are_written_together(customer, publish, categories):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(customer)
        raise RuntimeError("the request failed after the insert")
    assert not Intent.objects.exists() and not OutboxEvent.objects.exists()


def test_event_is_processed_once(customer, publish, subscribe, vendor):
    subscribe(vendor)
    intent = publish(customer)
    event = OutboxEvent.objects.get(kind="intent.published")
    assert event.processed_at is not None and event.attempts == 1
    assert outbox.process_event(event.pk, HANDLERS) is False
    event.refresh_from_db()
    assert event.attempts == 1
    assert Delivery.objects.filter(intent=intent).count() == 1


def test_a_small_audience_gets_inboxes_and_events_in_one_step(customer, publish, subscribe, vendor):
    subscribe(vendor)
    intent = publish(customer)
    (published,) = OutboxEvent.objects.all()  # no intent.delivered: no second task
    assert published.kind == "intent.published" and published.processed_at is not None
    assert published.dispatched_at is None  # the first dispatch costs no write
    assert Delivery.objects.filter(intent=intent, vendor=vendor).exists()
    event = VendorEvent.objects.get(vendor=vendor, kind="intent.matched", subject=str(intent.pk))
    handle = Pseudonym.objects.get(vendor=vendor, customer=customer).handle
    assert event.payload["data"]["customer"]["handle"] == handle


def test_a_large_audience_gets_inboxes_first_then_events_in_a_second_step(
    customer, publish, subscribe, vendor, settings
):
    settings.INTENTCAST = {**settings.INTENTCAST, "FANOUT_ONE_STEP_MAX": 0, "FANOUT_PARTS": 1}
    subscribe(vendor)
    intent = publish(customer)
    published, delivered = OutboxEvent.objects.order_by("id")
    assert (published.kind, delivered.kind) == ("intent.published", "intent.delivered")
    assert delivered.payload == {"intent_id": str(intent.pk)} and delivered.processed_at is not None
    assert VendorEvent.objects.filter(vendor=vendor, kind="intent.matched", subject=str(intent.pk)).count() == 1


@pytest.mark.parametrize("one_step_max", [1000, 0])
def test_both_ways_record_the_same_events(customer, publish, subscribe, settings, one_step_max):
    settings.INTENTCAST = {**settings.INTENTCAST, "FANOUT_ONE_STEP_MAX": one_step_max}
    vendors = [VendorFactory() for _ in range(3)]
    for vendor in vendors:
        subscribe(vendor)
    intent = publish(customer)
    handles = dict(Pseudonym.objects.filter(customer=customer).values_list("vendor_id", "handle"))
    events = VendorEvent.objects.filter(kind="intent.matched", subject=str(intent.pk))
    assert {event.vendor_id: event.payload["data"]["customer"]["handle"] for event in events} == handles
    assert sorted(handles) == sorted(vendor.pk for vendor in vendors)


def test_a_small_fan_out_reads_as_much_for_20_vendors_as_for_2(customer, subscribe, categories, regions):
    """The one-step fan-out's queries do not grow with its audience (the bulk writes go past the
    ORM's cursor and are not counted here; each is one statement)."""
    counts = []
    for more in (0, 2, 18):  # the first matches nobody: it reads the taxonomy the process then remembers
        for _ in range(more):
            subscribe(VendorFactory())
        publish_intent(customer=customer, title="Yaris", category=categories["cars"], region=regions["GB"])
        event = OutboxEvent.objects.get(kind="intent.published", processed_at__isnull=True)  # on_commit never ran
        with CaptureQueriesContext(connection) as queries:
            assert outbox.process_event(event.pk, HANDLERS) is True
        counts.append(len(queries))
    assert Delivery.objects.count() == 2 + 20 and VendorEvent.objects.count() == 2 + 20
    assert counts[1] == counts[2]


def test_fan_out_twice_delivers_nothing_twice(customer, publish, subscribe):
    vendors = [VendorFactory() for _ in range(3)]
    for vendor in vendors:
        subscribe(vendor)
    intent = publish(customer)
    handles = dict(Pseudonym.objects.values_list("vendor_id", "handle"))
    assert deliver_intent(intent.pk) == 3
    assert notify_matched(intent.pk) == 3
    assert Delivery.objects.filter(intent=intent).count() == 3
    assert VendorEvent.objects.filter(kind="intent.matched").count() == 3
    assert dict(Pseudonym.objects.values_list("vendor_id", "handle")) == handles


def test_a_failing_handler_leaves_the_event_for_another_try(customer, publish, subscribe, vendor, monkeypatch):
    subscribe(vendor)

    def broken(payload):
        Delivery.objects.create(intent_id=payload["intent_id"], vendor=vendor)  # then fails half-way
        raise RuntimeError("the handler broke half-way")

    monkeypatch.setitem(HANDLERS, "intent.published", broken)
    with pytest.raises(RuntimeError):
        publish(customer)
    event = OutboxEvent.objects.get(kind="intent.published")
    assert event.processed_at is None and not Delivery.objects.exists()
    monkeypatch.undo()
    assert outbox.process_event(event.pk, HANDLERS) is True
    assert Delivery.objects.count() == 1


def test_sweep_redispatches_only_stale_unprocessed_events(customer, subscribe, vendor, categories, regions, settings):

    subscribe(vendor)
    intent = publish_intent(customer=customer, title="Yaris", category=categories["cars"], region=regions["GB"])
    # on_commit never ran (the test transaction does not commit): the event is as if Redis were down.
    event = OutboxEvent.objects.get(kind="intent.published")
    assert event.processed_at is None
    assert outbox.redispatch_unprocessed() == 0  # too fresh to be called lost
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert outbox.redispatch_unprocessed() == 1
    event.refresh_from_db()
    assert event.processed_at is not None and event.dispatched_at is not None
    assert Delivery.objects.filter(intent=intent, vendor=vendor).exists()
    assert outbox.redispatch_unprocessed() == 0


def test_celery_is_configured_for_at_least_once(settings):

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] >= 3600
    routes = app.conf.task_routes
    assert (
        routes["broker.core.outbox.process_outbox_event"]["queue"]
        != routes["vendors.webhooks.deliver_webhook"]["queue"]
    )


@pytest.mark.django_db(transaction=True)
def test_sweep_skips_an_event_a_worker_is_processing_and_one_dispatched_moments_ago(
    other_connection, settings, monkeypatch
):
    settings.INTENTCAST = {**settings.INTENTCAST, "OUTBOX_REDISPATCH_AFTER": timedelta(seconds=5)}
    sent = []
    monkeypatch.setattr(outbox, "dispatch_event", lambda event_id: sent.append(event_id) or True)
    long_ago = timezone.now() - timedelta(minutes=1)
    event = OutboxEvent.objects.create(kind="intent.published", payload={})
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=long_ago, dispatched_at=timezone.now())
    assert outbox.redispatch_unprocessed() == 0  # dispatched moments ago: still in the queue

    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=long_ago)
    with other_connection.transaction():  # a worker holds the row: the handler is running
        other_connection.execute("SELECT 1 FROM broker_outboxevent WHERE id = %s FOR UPDATE", [event.pk])
        assert outbox.redispatch_unprocessed() == 0
    assert sent == []

    assert outbox.redispatch_unprocessed() == 1  # the worker died: its lock went with it
    assert sent == [event.pk]


@pytest.mark.django_db(transaction=True)
def test_worker_keeps_its_database_connection_between_tasks():
    connection.ensure_connection()
    before = connection.connection
    ConnectionReusingWorkerFixup(app).close_database()
    assert connection.connection is before and connection.is_usable()
