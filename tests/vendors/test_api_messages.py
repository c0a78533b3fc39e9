import pytest
from django.core import mail

from broker.pipeline.fanout import deliver_intent
from tests.factories import IntentFactory
from vendors.models import Message, VendorEvent
from vendors.threads import post_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def intent(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    return publish(customer)


def test_vendor_writes_and_the_customer_is_emailed(vendor_client, intent, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = vendor_client.post(
            f"/api/v1/intents/{intent.pk}/messages/", {"body": "Is silver a must?"}, format="json"
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sender"] == "vendor" and body["body"] == "Is silver a must?"
    assert body["customer"].startswith("c_")
    assert mail.outbox[0].to == [customer.email]
    assert str(intent.pk) in mail.outbox[0].body


def test_customer_reply_reaches_the_vendor_under_her_handle(vendor_client, intent, customer):
    post_message(intent=intent, vendor=vendor_client.vendor, sender=Message.Sender.CUSTOMER, body="Blue is fine too.")
    thread = vendor_client.get(f"/api/v1/intents/{intent.pk}/messages/").json()["results"]
    assert [(m["sender"], m["body"]) for m in thread] == [("customer", "Blue is fine too.")]
    event = VendorEvent.objects.get(kind="message.created")
    assert event.payload["data"]["body"] == "Blue is fine too."
    assert customer.email not in str(event.payload) and customer.username not in str(event.payload)


@pytest.mark.parametrize("payload", [{}, {"body": ""}, {"body": "   "}, {"body": "x" * 5001}])
def test_bad_message_is_400(vendor_client, intent, payload):
    response = vendor_client.post(f"/api/v1/intents/{intent.pk}/messages/", payload, format="json")
    assert response.status_code == 400
    assert "body" in response.json()["error"]["fields"]
    assert not Message.objects.exists()


def test_no_thread_about_an_intent_not_delivered(vendor_client, customer, categories, regions):
    other = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"])
    assert vendor_client.get(f"/api/v1/intents/{other.pk}/messages/").status_code == 404
    assert vendor_client.post(f"/api/v1/intents/{other.pk}/messages/", {"body": "hi"}, format="json").status_code == 404


def test_threads_are_per_vendor(vendor_client, make_vendor_client, intent, subscribe, customer):

    rival = make_vendor_client()
    subscribe(rival.vendor)
    deliver_intent(intent.pk)
    post_message(intent=intent, vendor=vendor_client.vendor, sender=Message.Sender.CUSTOMER, body="Only for you")
    assert rival.get(f"/api/v1/intents/{intent.pk}/messages/").json()["results"] == []
