"""Hard to abuse: rate limits, limits on what a request may carry, idempotency keys, currencies."""

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from broker.api.throttles import count_request
from broker.core.idempotency import sweep_idempotency_records
from broker.core.money import clean_currency, currency_choices
from broker.models import IdempotencyRecord
from broker.website.forms import IntentForm
from vendors import services
from vendors.models import Bid

pytestmark = pytest.mark.django_db

BIDS = "/api/v1/bids/"


@pytest.fixture
def intent(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    return publish(customer)


def bid(intent_, **overrides):
    return {"intent": str(intent_.pk), "amount": "3750.00", "currency": "GBP", **overrides}


@pytest.fixture
def low_rates(settings):
    settings.API_THROTTLE_RATES = {"read": "5/min", "write": "3/min", "anon": "4/min"}
    cache.clear()
    yield
    cache.clear()


# Rate limits ------------------------------------------------------------------------------


def test_a_flood_from_one_key_is_429_and_another_key_is_not(low_rates, vendor_client, make_vendor_client):
    answers = [vendor_client.get("/api/v1/me/").status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    response = vendor_client.get("/api/v1/me/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "throttled"
    assert make_vendor_client().get("/api/v1/me/").status_code == 200


def test_writes_have_their_own_stricter_budget(low_rates, vendor_client):
    answers = [vendor_client.post("/api/v1/webhooks/", {}, format="json").status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]
    assert vendor_client.get("/api/v1/me/").status_code == 200  # reads still go through


def test_a_flood_of_wrong_keys_is_limited_per_address(low_rates, vendor_client):
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer not-a-key")
    answers = [wrong.get("/api/v1/me/").status_code for _ in range(5)]
    assert answers == [401] * 4 + [429]
    assert APIClient().get("/api/v1/me/").status_code == 429  # the same address, no key
    other = APIClient(REMOTE_ADDR="192.0.2.7")
    assert other.get("/api/v1/me/").status_code == 401
    assert vendor_client.get("/api/v1/me/").status_code == 200  # a good key counts on its own


# What a request may carry -----------------------------------------------------------------


def test_a_body_over_the_limit_is_413_json(vendor_client):
    body = json.dumps({"url": "https://example.com/", "padding": "x" * (5 * 1024 * 1024)})
    response = vendor_client.post("/api/v1/webhooks/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_json_nested_too_deep_is_400_json(vendor_client):
    body = "[" * 1000 + "]" * 1000
    response = vendor_client.post(BIDS, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert "nested" in response.json()["error"]["message"]


def test_brackets_inside_strings_are_not_nesting(vendor_client):
    body = json.dumps({"url": "https://example.com/" + "[" * 1000})
    response = vendor_client.post("/api/v1/webhooks/", body, content_type="application/json")
    assert response.status_code != 400 or "nested" not in response.json()["error"]["message"]


def test_a_long_query_string_is_414_json(vendor_client):
    response = vendor_client.get("/api/v1/bids/?status=" + "a" * 5000)
    assert response.status_code == 414
    assert response.json()["error"]["code"] == "uri_too_long"


def test_a_validation_error_names_the_first_bad_field(vendor_client, intent):
    response = vendor_client.post(BIDS, bid(intent, amount="-1"), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "amount: Ensure this value is greater than or equal to 0."


def test_a_bad_item_of_a_list_is_named_by_its_position(vendor_client):
    """A list's field messages are keyed by the item's index, a number: the JSON says it as a
    string (orjson refuses a key that is not a string unless told, with a 500: found by
    tests/vendors/test_api_fuzz.py when the API moved to it)."""
    body = {"url": "https://hooks.example.test/intentcast", "events": ["agreement.accepted", ""]}
    response = vendor_client.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]["events"]) == ["1"]


# Idempotency keys -------------------------------------------------------------------------


def test_a_key_longer_than_255_characters_is_400(vendor_client, intent):
    response = vendor_client.post(BIDS, bid(intent), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert not Bid.objects.exists()
    ok = vendor_client.post(BIDS, bid(intent), format="json", HTTP_IDEMPOTENCY_KEY="k" * 255)
    assert ok.status_code == 201


@pytest.mark.parametrize("key", [" bid-1", "bid-1 ", "bid\t1", "clé-1"])
def test_a_key_outside_printable_ascii_or_with_spaces_at_its_ends_is_400(vendor_client, intent, key):
    response = vendor_client.post(BIDS, bid(intent), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert not Bid.objects.exists()


def test_a_key_with_spaces_inside_is_a_key(vendor_client, intent):
    response = vendor_client.post(BIDS, bid(intent), format="json", HTTP_IDEMPOTENCY_KEY="bid for 1")
    assert response.status_code == 201


def test_keys_belong_to_their_vendor(vendor_client, make_vendor_client, intent):
    first = vendor_client.post(f"/api/v1/intents/{intent.pk}/pass/", {}, format="json", HTTP_IDEMPOTENCY_KEY="p")
    assert first.status_code == 204
    other = make_vendor_client().post(BIDS, {}, format="json", HTTP_IDEMPOTENCY_KEY="p")
    assert other.status_code == 400 and "Idempotent-Replayed" not in other  # ran, not replayed


def test_every_post_replays(vendor_client, intent):
    url = f"/api/v1/intents/{intent.pk}/messages/"
    first = vendor_client.post(url, {"body": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY="m-1")
    again = vendor_client.post(url, {"body": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY="m-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    thread = vendor_client.get(url).json()["results"]
    assert len(thread) == 1


def test_expired_keys_are_swept_and_may_be_used_again(vendor_client, intent):
    vendor_client.post(BIDS, bid(intent), format="json", HTTP_IDEMPOTENCY_KEY="k-old")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert sweep_idempotency_records() == 1
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_bid(vendor_client, intent, monkeypatch):
    place_bid = services.place_bid

    def slow_place_bid(**kwargs):
        time.sleep(0.5)  # the first is still running when the second arrives
        return place_bid(**kwargs)

    monkeypatch.setattr(services, "place_bid", slow_place_bid)
    answers = []

    def post(delay):
        time.sleep(delay)
        client = APIClient()
        client.credentials(**vendor_client._credentials)
        try:
            answers.append(client.post(BIDS, bid(intent), format="json", HTTP_IDEMPOTENCY_KEY="same").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(delay,)) for delay in (0, 0.2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [201, 409]
    assert Bid.objects.count() == 1
    replay = vendor_client.post(BIDS, bid(intent), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"


# Currencies -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "CHE", "USN"])
def test_codes_not_in_circulation_are_refused(vendor_client, intent, code):
    with pytest.raises(Exception):  # noqa: B017,PT011
        clean_currency(code)
    response = vendor_client.post(BIDS, bid(intent, currency=code), format="json")
    assert response.status_code == 400 and "currency" in response.json()["error"]["fields"]


def test_real_x_codes_are_currencies():
    assert clean_currency("xof") == "XOF" and clean_currency("XCD") == "XCD"


def test_a_bid_is_in_the_requests_currency(vendor_client, intent):
    assert intent.currency == "GBP"
    response = vendor_client.post(BIDS, bid(intent, currency="EUR"), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == ["currency"] and error["message"].startswith("currency: ")


def test_the_currency_select_starts_with_the_regions_currency():
    codes = [code for code, _ in currency_choices("CH")]
    assert codes[:4] == ["CHF", "GBP", "EUR", "USD"]
    assert len(codes) == len(set(codes)) and "XXX" not in codes
    rest = codes[len(["CHF", *codes[1:13]]) :]
    assert rest == sorted(rest)
    assert [code for code, _ in currency_choices("FR")][:3] == ["EUR", "GBP", "USD"]


def test_the_request_form_lists_the_countrys_currency_first(categories, regions):
    form = IntentForm(category=categories["cars"], country=regions["FR"])
    codes = [code for code, _ in form.fields["currency"].choices]
    assert codes[:3] == ["EUR", "GBP", "USD"] and form.fields["currency"].initial == "EUR"
    assert "XXX" not in codes and "XAU" not in codes


def test_in_redis_the_limit_is_one_counter_per_caller_and_window(settings, vendor_client):
    """Production counts in Redis (one script per request, broker.api.throttles): the same
    limit, and the seconds left in the caller's window as Retry-After."""
    settings.API_THROTTLE_RATES = {"read": "5/min", "write": "3/min", "anon": "4/min"}
    settings.CACHES = {  # keys of this run only, never cleared (nothing else in that Redis db is touched)
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,
            "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",
            "TIMEOUT": 60,
        }
    }
    answers = [vendor_client.get("/api/v1/me/").status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    response = vendor_client.get("/api/v1/me/")
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 60
    assert count_request("api-throttle:read:someone-else", 60)[0] == 1  # another caller starts afresh
