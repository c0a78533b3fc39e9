"""A worker that takes one intent.published event also casts the others waiting in the outbox,
in the same transaction (``broker.core.outbox.process_event``): each is processed exactly once,
with its own processed_at, and a failing or deferred one is left alone for its own task."""

import pytest
from django.db import transaction

from broker.core import outbox
from broker.models import OutboxEvent
from broker.pipeline.handlers import HANDLERS
from intents.services import publish_intent
from tests.factories import VendorFactory
from vendors.models import Delivery, VendorEvent


@pytest.fixture
def waiting(customer, subscribe, categories, regions):
    """Three requests whose intent.published events wait in the outbox (on_commit never runs in
    a test's transaction, as if their messages were still in the queue), each to two vendors."""

    def waiting_(count=3):
        for _ in range(2):
            subscribe(VendorFactory())
        intents = [
            publish_intent(customer=customer, title=f"Yaris {n}", category=categories["cars"], region=regions["GB"])
            for n in range(count)
        ]
        events = list(OutboxEvent.objects.filter(kind="intent.published").order_by("id"))
        assert [e.payload["intent_id"] for e in events] == [str(i.pk) for i in intents]
        return intents, events

    return waiting_


@pytest.mark.django_db
def test_one_task_casts_the_waiting_requests_each_once(waiting):
    intents, events = waiting()
    assert outbox.process_event(events[0].pk, HANDLERS) is True
    for intent, event in zip(intents, events, strict=True):
        event.refresh_from_db()
        assert event.processed_at is not None and event.attempts == 1
        assert Delivery.objects.filter(intent=intent).count() == 2
        assert VendorEvent.objects.filter(kind="intent.matched", subject=str(intent.pk)).count() == 2
    # The queue messages of the events claimed by the batch find them processed.
    assert outbox.process_event(events[1].pk, HANDLERS) is False
    assert outbox.process_event(events[2].pk, HANDLERS) is False
    assert set(OutboxEvent.objects.values_list("attempts", flat=True)) == {1}
    assert Delivery.objects.count() == 6


@pytest.mark.django_db
def test_a_batch_takes_at_most_its_count(waiting, settings):
    settings.INTENTCAST = {**settings.INTENTCAST, "OUTBOX_BATCH": {"intent.published": 2}}
    intents, events = waiting()
    assert outbox.process_event(events[0].pk, HANDLERS) is True
    processed = list(OutboxEvent.objects.order_by("id").values_list("processed_at", flat=True))
    assert [when is not None for when in processed] == [True, True, False]
    assert not Delivery.objects.filter(intent=intents[2]).exists()


@pytest.mark.django_db
def test_kinds_not_batched_are_processed_alone(waiting, settings):
    settings.INTENTCAST = {**settings.INTENTCAST, "OUTBOX_BATCH": {}}
    intents, events = waiting()
    assert outbox.process_event(events[0].pk, HANDLERS) is True
    assert OutboxEvent.objects.filter(processed_at__isnull=True).count() == 2
    assert list(Delivery.objects.values_list("intent_id", flat=True).distinct()) == [intents[0].pk]


@pytest.mark.django_db
def test_a_failing_request_in_a_batch_is_undone_alone_and_left_for_its_own_task(waiting, monkeypatch):
    intents, events = waiting()
    broken_id = str(intents[1].pk)

    def breaks_on_the_second(payload):
        HANDLERS["intent.published"](payload)
        if payload["intent_id"] == broken_id:
            raise RuntimeError("the handler broke after its writes")

    assert outbox.process_event(events[0].pk, {"intent.published": breaks_on_the_second}) is True
    first, second, third = (OutboxEvent.objects.get(pk=e.pk) for e in events)
    assert first.processed_at is not None
    assert second.processed_at is None and second.attempts == 0  # undone: its writes too
    assert not Delivery.objects.filter(intent=intents[1]).exists()
    assert not VendorEvent.objects.filter(subject=broken_id).exists()
    assert third.processed_at is None  # the batch stopped at the failure
    assert outbox.process_event(second.pk, HANDLERS) is True  # its own task, later
    assert Delivery.objects.filter(intent=intents[1]).count() == 2


@pytest.mark.django_db
def test_a_large_audience_claimed_by_a_batch_is_deferred_to_its_own_task(waiting, settings):
    settings.INTENTCAST = {**settings.INTENTCAST, "FANOUT_ONE_STEP_MAX": 1}
    intents, events = waiting(count=2)
    assert outbox.process_event(events[0].pk, HANDLERS) is True  # the first: two steps, as before
    assert Delivery.objects.filter(intent=intents[0]).count() == 2
    assert not Delivery.objects.filter(intent=intents[1]).exists()  # deferred, nothing written
    assert OutboxEvent.objects.get(pk=events[1].pk).processed_at is None
    assert outbox.process_event(events[1].pk, HANDLERS) is True
    assert Delivery.objects.filter(intent=intents[1]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_deferred_event_is_unlocked_at_once_and_a_locked_one_is_not_waited_for(other_connection):
    first, deferred, last = (OutboxEvent.objects.create(kind="intent.published", payload={"n": n}) for n in range(3))
    seen = []

    def handler(payload):
        if payload["n"] == 1:
            raise outbox.Deferred("a large audience")
        if payload["n"] == 2:  # the batch is still open: which rows can another worker take?
            rows = other_connection.execute(
                "SELECT id FROM broker_outboxevent WHERE id = ANY(%s) FOR UPDATE SKIP LOCKED",
                [[first.pk, deferred.pk, last.pk]],
            ).fetchall()
            seen.extend(row[0] for row in rows)

    assert outbox.process_event(first.pk, {"intent.published": handler}) is True
    assert seen == [deferred.pk]  # its own message need not wait for the batch's commit
    assert list(OutboxEvent.objects.order_by("id").values_list("processed_at", flat=True))[1] is None

    # A worker whose event another one holds leaves it to that one instead of waiting.
    with other_connection.transaction():
        other_connection.execute("SELECT 1 FROM broker_outboxevent WHERE id = %s FOR UPDATE", [deferred.pk])
        assert outbox.process_event(deferred.pk, {"intent.published": seen.append}) is False
    assert outbox.process_event(deferred.pk, {"intent.published": seen.append}) is True
    assert seen == [deferred.pk, {"n": 1}]


@pytest.mark.django_db
def test_a_batch_is_one_transaction_with_the_first_event(waiting):
    """If the first event's own handler fails, nothing of the batch is kept: the events stay for
    their own tasks, as a single failed event did before."""
    intents, events = waiting()

    def broken(payload):
        raise RuntimeError("broke")

    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.process_event(events[0].pk, {"intent.published": broken})
    assert OutboxEvent.objects.filter(processed_at__isnull=True).count() == 3
    assert not Delivery.objects.exists()
