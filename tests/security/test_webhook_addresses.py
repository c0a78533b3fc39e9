"""Webhooks cannot be pointed at our own network: one DNS answer, every address checked, the
connection made to the address that was checked. Only 127.0.0.1 and a fake resolver here: no
outside name is ever looked up."""

import socket

import pytest
from django.core.exceptions import ValidationError

from tests.broker.receiver import Receiver
from vendors import webhooks
from vendors.models import VendorEvent, WebhookAttempt

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # an answer we never connect to


class FakeResolver:
    """Answers every lookup with the next list of addresses; records the names asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = []

    def __call__(self, host, port, *args, **kwargs):
        self.asked.append(host)
        if host == "127.0.0.1":  # the literal the checked connection is made to
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (host, port))]
        addresses = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]


@pytest.fixture
def no_private(settings):
    settings.INTENTCAST = {**settings.INTENTCAST, "WEBHOOKS_ALLOW_PRIVATE": False}


@pytest.fixture
def fresh_client(monkeypatch):
    monkeypatch.setattr(webhooks, "_client", None)


@pytest.fixture
def ping(django_capture_on_commit_callbacks):
    def ping_(endpoint):
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.ping_endpoint(endpoint=endpoint)

    return ping_


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def test_rebinding_never_reaches_a_local_receiver(vendor, ping, receiver, no_private, fresh_client, monkeypatch):
    resolver = FakeResolver([PUBLIC], ["127.0.0.1"])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    endpoint = webhooks.register_endpoint(
        vendor=vendor, url=f"https://hooks.vendor.test:{receiver.server.server_port}/x"
    )

    ping(endpoint)

    attempt = WebhookAttempt.objects.get(delivery__endpoint=endpoint)
    assert not attempt.succeeded and attempt.error == "refused address"
    assert receiver.requests == []
    assert resolver.asked == ["hooks.vendor.test", "hooks.vendor.test"]


def test_one_private_address_among_public_ones_is_refused(vendor, no_private, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver([PUBLIC, "127.0.0.1"]))
    with pytest.raises(ValidationError):
        webhooks.register_endpoint(vendor=vendor, url="https://hooks.vendor.test/x")


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "::7f00:1",  # IPv4-compatible
        "::ffff:0:7f00:1",  # SIIT
        "100.64.0.1",  # shared address space
        "0.0.0.0",  # noqa: S104 (an answer to refuse, not a bind)
        "fd00::1",
    ],
)
def test_translated_and_non_public_forms_are_refused_at_registration(vendor, no_private, monkeypatch, address):
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver([address]))
    with pytest.raises(ValidationError):
        webhooks.register_endpoint(vendor=vendor, url="https://hooks.vendor.test/x")
    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(ValidationError):
        webhooks.register_endpoint(vendor=vendor, url=f"https://{literal}/x")


@pytest.mark.parametrize("address", [PUBLIC, "::ffff:93.184.215.14", "64:ff9b::5db8:d70e", "2606:2800:220:1::1"])
def test_public_addresses_pass(address):
    assert webhooks.is_public(webhooks.ipaddress.ip_address(address))


def test_the_connection_goes_to_the_resolved_address_with_the_url_host(
    vendor, ping, receiver, fresh_client, monkeypatch
):
    """WEBHOOKS_ALLOW_PRIVATE (tests, the demo) still reaches local receivers, through the one
    lookup: the request carries the URL's host name."""
    resolver = FakeResolver(["127.0.0.1"])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    port = receiver.server.server_port
    endpoint = webhooks.register_endpoint(vendor=vendor, url=f"http://hooks.vendor.test:{port}/x")

    ping(endpoint)

    assert WebhookAttempt.objects.get(delivery__endpoint=endpoint).succeeded
    headers, _ = receiver.requests[0]
    assert headers["host"] == f"hooks.vendor.test:{port}"
    # One lookup of the name per connection (the socket then connects to the address literal).
    assert resolver.asked.count("hooks.vendor.test") == 1


def test_attempts_keep_a_coarse_error_never_socket_text(vendor, ping, fresh_client):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    endpoint = webhooks.register_endpoint(vendor=vendor, url=f"http://127.0.0.1:{port}/x")
    ping(endpoint)
    attempt = WebhookAttempt.objects.get(delivery__endpoint=endpoint)
    assert attempt.error == "connection refused"
    assert VendorEvent.objects.filter(vendor=vendor).exists()


def test_an_error_status_is_recorded_as_its_class(vendor, ping, fresh_client):
    with Receiver(statuses=[500]) as failing:
        endpoint = webhooks.register_endpoint(vendor=vendor, url=failing.url)
        ping(endpoint)
    assert WebhookAttempt.objects.get(delivery__endpoint=endpoint).error == "HTTP 500"


def test_checked_addresses_are_kept_for_their_lifetime_and_pinned(no_private, monkeypatch):
    """Within WEBHOOK_DNS_TTL_SECONDS a new connection goes to the addresses that were checked,
    without a second look-up, whatever the DNS says by then (rebinding)."""
    resolver = FakeResolver([PUBLIC], ["127.0.0.1"])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    now = [0.0]
    backend = webhooks.CheckedNetworkBackend(ttl=60, clock=lambda: now[0])
    first = backend.addresses("hooks.vendor.test", 443)
    assert backend.addresses("hooks.vendor.test", 443) == first == [webhooks.ipaddress.ip_address(PUBLIC)]
    assert resolver.asked == ["hooks.vendor.test"]

    now[0] = 59.0
    assert backend.addresses("hooks.vendor.test", 443) == first
    now[0] = 61.0  # the lifetime is over
    with pytest.raises(webhooks.RefusedAddress):
        backend.addresses("hooks.vendor.test", 443)
    assert resolver.asked == ["hooks.vendor.test", "hooks.vendor.test"]


def test_a_refused_answer_is_not_kept(no_private, monkeypatch):
    resolver = FakeResolver(["127.0.0.1"], [PUBLIC])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    backend = webhooks.CheckedNetworkBackend(ttl=60)
    with pytest.raises(webhooks.RefusedAddress):
        backend.addresses("hooks.vendor.test", 443)
    assert backend.addresses("hooks.vendor.test", 443) == [webhooks.ipaddress.ip_address(PUBLIC)]
    assert resolver.asked == ["hooks.vendor.test", "hooks.vendor.test"]
