"""Logins and signups behind a trusted proxy: limits per account and per real client address,
and nothing that tells whether an email has an account."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROXY = {"REMOTE_ADDR": "127.0.0.1"}


@pytest.fixture(autouse=True)
def _behind_one_proxy(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    cache.clear()
    yield
    cache.clear()


def log_in(client, email, password, address="198.51.100.7"):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        HTTP_X_FORWARDED_FOR=f"10.9.8.7, {address}",
        **PROXY,
    )


def test_locking_out_one_account_leaves_another_customer_behind_the_same_address_able_to_log_in(client):
    victim = UserFactory(email="victim@example.com")
    neighbour = UserFactory(email="neighbour@example.com")
    for _ in range(12):
        response = log_in(client, victim.email, "wrong guess")
        assert response.status_code in (200, 429)
    # The account under attack is locked, even with its right password...
    response = log_in(client, victim.email, "correct horse battery")
    assert response.status_code != 302
    # ...but another customer at the same proxy address logs in.
    response = log_in(client, neighbour.email, "correct horse battery")
    assert response.status_code == 302, response.content[:500]


def test_the_address_limit_counts_the_client_address_the_proxy_reports(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    user = UserFactory(email="someone@example.com")
    for _ in range(3):
        log_in(client, user.email, "wrong guess", address="198.51.100.20")
    assert log_in(client, user.email, "correct horse battery", address="198.51.100.20").status_code == 429
    # Another client behind the same proxy (same REMOTE_ADDR) has its own budget.
    assert log_in(client, user.email, "correct horse battery", address="198.51.100.21").status_code == 302


def signup(client, email):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": "a long unusual passphrase", "password2": "a long unusual passphrase"},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        **PROXY,
    )


def test_signup_with_a_taken_email_looks_like_any_signup(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"  # production's default (see production.py)
    UserFactory(email="taken@example.com")
    fresh = signup(client, "fresh@example.com")
    client.logout()
    taken = signup(client, "taken@example.com")
    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"]
    assert b"already" not in taken.content
    # The owner of the taken address is told by email instead.
    assert any(m.to == ["taken@example.com"] for m in mail.outbox)


def test_password_reset_does_not_tell_whether_an_account_exists(client):
    UserFactory(email="known@example.com")
    url = reverse("account_reset_password")
    known = client.post(url, {"email": "known@example.com"}, HTTP_X_FORWARDED_FOR="198.51.100.7", **PROXY)
    unknown = client.post(url, {"email": "nobody@example.com"}, HTTP_X_FORWARDED_FOR="198.51.100.7", **PROXY)
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
