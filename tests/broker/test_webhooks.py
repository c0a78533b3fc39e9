import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks import Webhook

from broker.models import AuditLog
from tests.broker.receiver import Receiver
from vendors import events, webhooks
from vendors.events import record_vendor_events, record_vendor_events_json
from vendors.models import VendorEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def register(client, url, **data):
    response = client.post(URL, {"url": url, **data}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_secret_is_shown_once(vendor_client, receiver):
    created = register(vendor_client, receiver.url, events=["intent.matched"])
    assert created["secret"].startswith("whsec_")
    listed = vendor_client.get(URL).json()["results"]
    assert listed[0]["id"] == created["id"] and "secret" not in listed[0]
    assert "secret" not in vendor_client.get(f"{URL}{created['id']}/").json()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://example.com/hook"}, "url"),
        ({}, "url"),
        ({"url": "https://example.com/hook", "events": ["intent.exploded"]}, "events"),
    ],
)
def test_bad_endpoint_is_400(vendor_client, payload, field):
    response = vendor_client.post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://localhost/hook",
        "http://93.184.215.14/hook",
    ],
)
def test_production_refuses_private_and_plain_http_urls(vendor_client, settings, url):
    settings.INTENTCAST = {**settings.INTENTCAST, "WEBHOOKS_ALLOW_PRIVATE": False}
    response = vendor_client.post(URL, {"url": url}, format="json")
    assert response.status_code == 400, url
    assert "url" in response.json()["error"]["fields"]


def test_matched_intent_arrives_signed_and_verifiable(vendor_client, customer, publish, subscribe, receiver):
    endpoint = register(vendor_client, receiver.url)
    subscribe(vendor_client.vendor)
    intent = publish(customer)

    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    payload = Webhook(endpoint["secret"]).verify(body, headers)
    assert payload["type"] == "intent.matched" and payload["data"]["id"] == str(intent.pk)
    with pytest.raises(Exception, match="signature"):
        Webhook(webhooks.new_secret()).verify(body, headers)

    event = vendor_client.get("/api/v1/events/").json()["results"][0]
    assert event["id"] == headers["webhook-id"]
    assert event["payload"] == json.loads(body)
    attempt = vendor_client.get(f"{URL}{endpoint['id']}/attempts/").json()["results"][0]
    assert attempt["succeeded"] is True and attempt["response_status"] == 204


def test_endpoint_gets_only_the_events_it_chose(vendor_client, customer, publish, subscribe, receiver):
    register(vendor_client, receiver.url, events=["bid.accepted"])
    subscribe(vendor_client.vendor)
    publish(customer)
    assert receiver.requests == []
    assert VendorEvent.objects.filter(kind="intent.matched").count() == 1  # still in /events/


def test_failed_delivery_is_retried_with_backoff(vendor_client, customer, publish, subscribe):
    with Receiver(statuses=[500]) as failing:
        register(vendor_client, failing.url)
        subscribe(vendor_client.vendor)
        publish(customer)
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "pending" and delivery.attempt_count == 1
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        assert 3 <= wait <= 6
        assert webhooks.attempt_delivery(delivery.pk) is None  # not due yet: nothing sent
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert webhooks.dispatch_due() == 1  # the periodic retry sends it (eagerly here)
        delivery.refresh_from_db()
        assert delivery.status == "succeeded" and delivery.attempt_count == 2
        assert len(failing.requests) == 2
        assert failing.requests[0][0]["webhook-id"] == failing.requests[1][0]["webhook-id"]
    attempts = list(WebhookAttempt.objects.order_by("attempted_at").values_list("response_status", "succeeded"))
    assert attempts == [(500, False), (204, True)]


def test_schedule_spans_about_three_days():
    total_hours = sum(webhooks.RETRY_DELAYS) / 3600
    assert 60 <= total_hours <= 84
    assert webhooks.next_delay(len(webhooks.RETRY_DELAYS) + 1) is None
    delays = [webhooks.next_delay(n) for n in range(1, len(webhooks.RETRY_DELAYS) + 1)]
    assert all(0.9 * base <= d <= 1.1 * base for d, base in zip(delays, webhooks.RETRY_DELAYS, strict=True))


def test_endpoint_that_keeps_failing_is_disabled_and_the_vendor_told(
    vendor_client, customer, publish, subscribe, django_capture_on_commit_callbacks
):
    with Receiver(statuses=[503] * 20) as failing:
        endpoint = register(vendor_client, failing.url)
        subscribe(vendor_client.vendor)
        publish(customer)
        delivery = WebhookDelivery.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            for _ in webhooks.RETRY_DELAYS:
                WebhookDelivery.objects.filter(pk=delivery.pk).update(
                    next_attempt_at=timezone.now() - timedelta(seconds=1)
                )
                assert webhooks.attempt_delivery(delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempt_count == len(webhooks.RETRY_DELAYS) + 1
    stored = WebhookEndpoint.objects.get(pk=endpoint["id"])
    assert stored.active is False and stored.disabled_at is not None
    kinds = [e["type"] for e in vendor_client.get("/api/v1/events/").json()["results"]]
    assert kinds[-1] == "webhook.endpoint_disabled"
    assert AuditLog.objects.filter(action="webhook_endpoint.disabled", target_id=endpoint["id"]).exists()
    assert mail.outbox and "disabled" in mail.outbox[0].subject


def test_ping_sends_a_signed_ping(vendor_client, receiver, django_capture_on_commit_callbacks):
    endpoint = register(vendor_client, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        assert vendor_client.post(f"{URL}{endpoint['id']}/ping/").status_code == 202
    headers, body = receiver.requests[0]
    assert Webhook(endpoint["secret"]).verify(body, headers)["type"] == "webhook.ping"


def test_another_vendors_endpoint_is_404(vendor_client, make_vendor_client, receiver):
    endpoint = register(make_vendor_client(), receiver.url)
    assert vendor_client.delete(f"{URL}{endpoint['id']}/").status_code == 404
    assert vendor_client.post(f"{URL}{endpoint['id']}/ping/").status_code == 404
    assert vendor_client.get(f"{URL}{endpoint['id']}/attempts/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint["id"]).exists()


def test_delete_endpoint(vendor_client, receiver):
    endpoint = register(vendor_client, receiver.url)
    assert vendor_client.delete(f"{URL}{endpoint['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_events_are_paginated_oldest_first(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    intents = [publish(customer, title=f"Yaris {n}") for n in range(3)]
    page = vendor_client.get("/api/v1/events/", {"page_size": 2}).json()
    seen = [e["payload"]["data"]["id"] for e in page["results"]]
    seen += [e["payload"]["data"]["id"] for e in vendor_client.get(page["next"]).json()["results"]]
    assert seen == [str(i.pk) for i in intents]


def record_matched(vendors, subjects):
    for subject in subjects:
        record_vendor_events(
            kind="intent.matched", subject=subject, data_by_vendor={v.pk: {"id": subject} for v in vendors}
        )


def test_the_webhooks_of_one_transaction_leave_in_full_batches(
    make_vendor_client, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.INTENTCAST = {**settings.INTENTCAST, "WEBHOOK_BATCH_SIZE": 4}
    vendors = [make_vendor_client().vendor for _ in range(2)]
    for vendor in vendors:
        webhooks.register_endpoint(vendor=vendor, url=receiver.url)
    messages = []
    monkeypatch.setattr(webhooks, "_enqueue", lambda ids, **options: messages.append(ids) or True)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        record_matched(vendors, ["a", "b", "c"])  # three calls, six deliveries

    assert [len(batch) for batch in messages] == [4, 2]
    endpoints = [WebhookDelivery.objects.get(pk=pk).endpoint_id for batch in messages for pk in batch]
    assert endpoints == sorted(endpoints)  # grouped by endpoint, so an endpoint's share one batch


def test_a_batch_sends_each_endpoints_deliveries_in_order_and_records_every_attempt(
    make_vendor_client, django_capture_on_commit_callbacks
):
    with Receiver() as first, Receiver(statuses=[204, 500]) as second:
        vendors = [make_vendor_client().vendor for _ in range(2)]
        webhooks.register_endpoint(vendor=vendors[0], url=first.url)
        webhooks.register_endpoint(vendor=vendors[1], url=second.url)
        with django_capture_on_commit_callbacks(execute=True):
            record_matched(vendors, [f"s{n}" for n in range(5)])

    for received, vendor in ((first, vendors[0]), (second, vendors[1])):
        ids = [headers["webhook-id"] for headers, _ in received.requests]
        expected = [e.message_id for e in VendorEvent.objects.filter(vendor=vendor).order_by("pk")]
        assert ids == expected
    assert WebhookAttempt.objects.count() == 10
    failed = WebhookDelivery.objects.get(status="pending")  # the one the 500 answered, retried later
    assert failed.attempt_count == 1 and failed.endpoint.vendor == vendors[1]
    assert WebhookDelivery.objects.filter(status="succeeded", attempt_count=1).count() == 9
    assert failed.attempts.get().error == "HTTP 500"


@pytest.mark.django_db(transaction=True)
def test_a_delivery_another_worker_holds_is_skipped_not_waited_for(vendor, receiver, other_connection):
    endpoint = webhooks.register_endpoint(vendor=vendor, url=receiver.url)
    event = VendorEvent.objects.create(vendor=vendor, kind="webhook.ping", subject="held", payload={})
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=timezone.now())

    with other_connection.transaction():  # another worker leased it and is sending
        other_connection.execute("SELECT 1 FROM vendors_webhookdelivery WHERE id = %s FOR UPDATE", [delivery.pk])
        assert webhooks.attempt_delivery(delivery.pk) is None
    assert receiver.requests == []
    assert webhooks.attempt_delivery(delivery.pk) is True
    assert len(receiver.requests) == 1


def test_the_sweep_sends_due_retries_and_first_attempts_the_queue_never_took(vendor, receiver, monkeypatch):
    endpoint = webhooks.register_endpoint(vendor=vendor, url=receiver.url)
    now = timezone.now()

    def delivery(subject, *, attempts, due):
        event = VendorEvent.objects.create(vendor=vendor, kind="webhook.ping", subject=subject, payload={})
        return WebhookDelivery.objects.create(
            event=event, endpoint=endpoint, attempt_count=attempts, next_attempt_at=due
        )

    retry = delivery("retry", attempts=1, due=now)
    lost = delivery("lost", attempts=0, due=now - timedelta(minutes=1))
    delivery("queued", attempts=0, due=now)  # its message is in the queue: not sent again
    delivery("later", attempts=1, due=now + timedelta(minutes=1))
    messages = []
    monkeypatch.setattr(webhooks, "_enqueue", lambda ids, **options: messages.append(ids) or True)

    assert webhooks.dispatch_due() == 2
    assert sorted(pk for batch in messages for pk in batch) == sorted([retry.pk, lost.pk])


def test_a_surprise_in_one_delivery_is_recorded_and_the_rest_of_the_batch_goes_out(
    make_vendor_client, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    vendors = [make_vendor_client().vendor for _ in range(2)]
    for vendor in vendors:
        webhooks.register_endpoint(vendor=vendor, url=receiver.url)
    signed_request = webhooks.signed_request

    def sometimes_broken(endpoint, event, signer=None):
        if event.vendor_id == vendors[0].pk:
            raise ValueError("a bug")
        return signed_request(endpoint, event, signer)

    monkeypatch.setattr(webhooks, "signed_request", sometimes_broken)
    with django_capture_on_commit_callbacks(execute=True):
        record_matched(vendors, ["a"])

    assert len(receiver.requests) == 1
    attempts = dict(WebhookAttempt.objects.values_list("delivery__endpoint__vendor", "error"))
    assert attempts == {vendors[0].pk: "request failed", vendors[1].pk: ""}
    assert WebhookDelivery.objects.get(endpoint__vendor=vendors[0]).status == "pending"  # retried later


@pytest.mark.parametrize("one_statement", [True, False], ids=["postgresql-one-statement", "insert-then-schedule"])
def test_events_and_their_webhooks_are_recorded_alike_both_ways(
    make_vendor_client, receiver, monkeypatch, django_capture_on_commit_callbacks, one_statement
):
    """On PostgreSQL one statement records the events and schedules their webhooks; elsewhere
    the events are inserted, then ``schedule_webhooks`` reads the endpoints. Both schedule one
    delivery per event and active endpoint that wants its kind, for events recorded earlier too,
    and send the first attempts after commit."""
    if one_statement and connection.vendor != "postgresql":
        pytest.skip("the one-statement way is PostgreSQL's")
    if not one_statement:
        monkeypatch.setattr(events, "connections", {"default": SimpleNamespace(vendor="other")})
    everything, matched_only, other_kind, inactive, none = (make_vendor_client().vendor for _ in range(5))
    wanted = {
        webhooks.register_endpoint(vendor=everything, url=receiver.url).pk,
        webhooks.register_endpoint(vendor=everything, url=receiver.url).pk,
        webhooks.register_endpoint(vendor=matched_only, url=receiver.url, events=["intent.matched"]).pk,
    }
    webhooks.register_endpoint(vendor=other_kind, url=receiver.url, events=["bid.accepted"])
    webhooks.register_endpoint(vendor=inactive, url=receiver.url)
    WebhookEndpoint.objects.filter(vendor=inactive).update(active=False)
    recorded_before = VendorEvent.objects.create(vendor=matched_only, kind="intent.matched", subject="s", payload={})
    sent = []
    monkeypatch.setattr(webhooks, "send_pending", sent.extend)
    vendors = [everything, matched_only, other_kind, inactive, none]

    with django_capture_on_commit_callbacks(execute=True):
        record_vendor_events_json(
            kind="intent.matched", subject="s", data_json_by_vendor={v.pk: json.dumps({"n": v.pk}) for v in vendors}
        )

    recorded = {e.vendor_id: e for e in VendorEvent.objects.filter(kind="intent.matched", subject="s")}
    assert set(recorded) == {v.pk for v in vendors} and recorded[matched_only.pk] == recorded_before
    assert recorded[everything.pk].payload["data"] == {"n": everything.pk}
    scheduled = WebhookDelivery.objects.all()
    assert {d.endpoint_id for d in scheduled} == wanted and len(scheduled) == 3
    assert all(d.status == "pending" and d.attempt_count == 0 and d.next_attempt_at for d in scheduled)
    assert {d.event_id for d in scheduled} == {recorded[everything.pk].pk, recorded_before.pk}
    assert sorted(sent) == sorted({d.event_id for d in scheduled})
