"""Keys and webhooks in the vendor area: the same rules as the API, each bad input next to its
field with nothing saved; the secret rotation's overlap window."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.broker.receiver import Receiver
from vendors.models import ApiKey, WebhookAttempt, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", b"This field is required"),
        ("   ", b"This field is required"),
        ("x" * 101, b"under 100 characters"),
        ("bell\x07", b"control characters"),
    ],
)
def test_bad_key_name_shows_by_the_field_and_creates_nothing(dealer, name, message):
    response = dealer.post("/vendor/keys/", {"name": name})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors and message in response.content
    assert b'id="id_name-errors"' in response.content and b'aria-invalid="true"' in response.content
    assert not ApiKey.objects.exists()


def test_keys_of_another_vendor_cannot_be_revoked(dealer, make_vendor_client):
    other = make_vendor_client()
    key = ApiKey.objects.get(vendor=other.vendor)
    assert dealer.post(f"/vendor/keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "not a url"}, b"Enter a valid URL"),
        ({"url": ""}, b"This field is required"),
        ({"url": "ftp://example.com/hook"}, b"Enter an http(s) URL"),
        ({"url": "https://example.com/" + "a" * 500}, b"at most 500 characters"),
        ({"url": "https://example.com/hook", "events": ["intent.exploded"]}, b"Select a valid choice"),
    ],
)
def test_bad_endpoint_shows_by_the_field_and_saves_nothing(dealer, data, message):
    response = dealer.post("/vendor/webhooks/", data)
    assert response.status_code == 400
    field = "events" if "events" in data else "url"
    assert field in response.context["form"].errors and message in response.content
    assert f'id="id_{field}-errors"'.encode() in response.content
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://127.0.0.1/hook", b"private, loopback or link-local"),
        ("https://10.1.2.3/hook", b"private, loopback or link-local"),
        ("https://169.254.169.254/latest", b"private, loopback or link-local"),
        ("http://example.com/hook", b"must use https"),
        ("https://no-such-host.invalid/hook", b"does not resolve"),
    ],
)
def test_the_address_checks_of_the_api_apply(dealer, settings, url, message):
    settings.INTENTCAST = {**settings.INTENTCAST, "WEBHOOKS_ALLOW_PRIVATE": False}
    response = dealer.post("/vendor/webhooks/", {"url": url})
    assert response.status_code == 400 and message in response.content
    assert b'id="id_url-errors"' in response.content
    assert not WebhookEndpoint.objects.exists()


def register(dealer, url):
    response = dealer.post("/vendor/webhooks/", {"url": url})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    return WebhookEndpoint.objects.get(url=url), response.context["secret"]


def ping(dealer, endpoint, capture):
    with capture(execute=True):
        dealer.post(f"/vendor/webhooks/{endpoint.pk}/ping/")


def test_register_ping_and_see_the_attempt(dealer, receiver, django_capture_on_commit_callbacks):
    endpoint, secret = register(dealer, receiver.url)
    assert secret.startswith("whsec_") and endpoint.vendor == dealer.vendor
    assert secret.encode() not in dealer.get(f"/vendor/webhooks/{endpoint.pk}/").content  # shown once
    ping(dealer, endpoint, django_capture_on_commit_callbacks)
    headers, body = receiver.requests[0]
    assert Webhook(secret).verify(body, headers)["type"] == "webhook.ping"
    assert WebhookAttempt.objects.get().succeeded
    page = dealer.get(f"/vendor/webhooks/{endpoint.pk}/").content
    assert b"webhook.ping" in page and b"HTTP 204" in page


def test_rotation_signs_with_both_secrets_during_the_window_then_only_the_new(
    dealer, receiver, django_capture_on_commit_callbacks
):
    endpoint, old = register(dealer, receiver.url)
    assert b"two signatures" in dealer.get(f"/vendor/webhooks/{endpoint.pk}/rotate/").content
    response = dealer.post(f"/vendor/webhooks/{endpoint.pk}/rotate/")
    new = response.context["secret"]
    assert new != old and "no-store" in response["Cache-Control"]

    ping(dealer, endpoint, django_capture_on_commit_callbacks)
    headers, body = receiver.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(body, headers)["type"] == "webhook.ping"
    assert Webhook(new).verify(body, headers)["type"] == "webhook.ping"

    # The window ends: only the new secret signs.
    endpoint.refresh_from_db()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_until=endpoint.created_at)
    ping(dealer, endpoint, django_capture_on_commit_callbacks)
    headers, body = receiver.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(body, headers)["type"] == "webhook.ping"
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)


def test_the_window_comes_from_the_settings(dealer, receiver, settings):
    settings.INTENTCAST = {**settings.INTENTCAST, "WEBHOOK_SECRET_OVERLAP": timedelta(hours=2)}
    endpoint, _ = register(dealer, receiver.url)
    before = timezone.now()
    dealer.post(f"/vendor/webhooks/{endpoint.pk}/rotate/")
    after = timezone.now()
    endpoint.refresh_from_db()
    # The old secret signs for exactly the setting's window from the rotation.
    assert before + timedelta(hours=2) <= endpoint.previous_secret_until <= after + timedelta(hours=2)


def test_another_vendors_endpoint_is_404(dealer, make_vendor_client, receiver):
    client = make_vendor_client()
    response = client.post("/api/v1/webhooks/", {"url": receiver.url}, format="json")
    endpoint_id = response.json()["id"]
    for path in ("", "rotate/", "delete/"):
        assert dealer.get(f"/vendor/webhooks/{endpoint_id}/{path}").status_code == 404
    assert dealer.post(f"/vendor/webhooks/{endpoint_id}/ping/").status_code == 404
    assert mail.outbox == []


def test_remove_an_endpoint_after_confirming(dealer, receiver):
    endpoint, _ = register(dealer, receiver.url)
    assert b"cannot be undone" in dealer.get(f"/vendor/webhooks/{endpoint.pk}/delete/").content
    dealer.post(f"/vendor/webhooks/{endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.exists()
