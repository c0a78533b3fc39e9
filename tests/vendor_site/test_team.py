"""Several people act for one vendor; vendor logins and customers' accounts never cross."""

import re

import pytest
from django.core import mail
from django.test import Client

from tests.factories import UserFactory, VendorFactory
from tests.vendor_site.conftest import PASSWORD
from vendors.models import ApiKey, Vendor, VendorInvitation, VendorMembership

pytestmark = pytest.mark.django_db


def invite(dealer, email, capture, role="member"):
    with capture(execute=True):
        response = dealer.post("/vendor/team/", {"email": email, "role": role})
    assert response.status_code == 302, response.context["form"].errors
    link = re.search(r"/vendor/invitations/[^/\s]+/", mail.outbox[-1].body).group(0)
    return link


def test_an_invited_member_can_act_and_a_removed_one_cannot(dealer, django_capture_on_commit_callbacks):
    link = invite(dealer, "sam@croydon.example", django_capture_on_commit_callbacks)
    assert mail.outbox[-1].to == ["sam@croydon.example"] and "Croydon Motors" in mail.outbox[-1].subject
    assert VendorInvitation.objects.get().digest not in mail.outbox[-1].body  # the token, not its digest

    sam = Client()
    page = sam.get(link)
    assert b"sam@croydon.example" in page.content
    response = sam.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert response["Location"] == "/vendor/"
    membership = VendorMembership.objects.get(user__email="sam@croydon.example")
    assert membership.role == VendorMembership.Role.MEMBER and membership.vendor == dealer.vendor

    # A member acts: creates a key. It cannot manage the team.
    assert sam.post("/vendor/keys/", {"name": "Sam's laptop"}).status_code == 200
    assert ApiKey.objects.filter(vendor=dealer.vendor, name="Sam's laptop").exists()
    assert sam.post("/vendor/team/", {"email": "x@croydon.example", "role": "owner"}).status_code == 200
    assert not VendorInvitation.objects.filter(email="x@croydon.example").exists()
    assert sam.get(f"/vendor/team/{membership.pk}/remove/").status_code == 403

    # The owner removes Sam (after a confirmation page): Sam can no longer act.
    assert b"no longer be able to act" in dealer.get(f"/vendor/team/{membership.pk}/remove/").content
    dealer.post(f"/vendor/team/{membership.pk}/remove/")
    for path in ("/vendor/", "/vendor/keys/", "/vendor/webhooks/"):
        assert sam.get(path).status_code == 403
    assert sam.post("/vendor/keys/", {"name": "After removal"}).status_code == 403
    assert not ApiKey.objects.filter(name="After removal").exists()
    # And never becomes a customer: a vendor login stays out of the customer's pages.
    assert sam.get("/requests/").status_code == 403


def test_the_link_works_once_and_a_used_one_is_refused(dealer, django_capture_on_commit_callbacks):
    link = invite(dealer, "sam@croydon.example", django_capture_on_commit_callbacks)
    Client().post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert Client().get(link).status_code == 404
    assert Client().get("/vendor/invitations/not-a-token/").status_code == 404


def test_an_existing_vendor_login_joins_after_logging_in(dealer, django_capture_on_commit_callbacks):
    former = UserFactory(email="kim@croydon.example")
    old_vendor = VendorFactory(name="Old Garage")
    VendorMembership.objects.create(vendor=old_vendor, user=former, role="owner", removed_at="2026-01-01T00:00Z")
    link = invite(dealer, "kim@croydon.example", django_capture_on_commit_callbacks, role="owner")
    kim = Client()
    assert b"already has a login" in kim.get(link).content
    kim.force_login(former)
    assert kim.post(link)["Location"] == "/vendor/"
    assert VendorMembership.objects.get(user=former, removed_at__isnull=True).vendor == dealer.vendor


def test_a_customer_account_cannot_accept_an_invitation(dealer, customer, django_capture_on_commit_callbacks):
    link = invite(dealer, customer.email, django_capture_on_commit_callbacks)
    her = Client()
    her.force_login(customer)
    assert her.post(link).status_code == 403
    assert not VendorMembership.objects.filter(user=customer).exists()


def test_a_login_of_another_vendor_cannot_join(dealer, django_capture_on_commit_callbacks):
    other = UserFactory(email="lee@elsewhere.example")
    VendorMembership.objects.create(vendor=VendorFactory(name="Elsewhere"), user=other, role="owner")
    link = invite(dealer, "lee@elsewhere.example", django_capture_on_commit_callbacks)
    lee = Client()
    lee.force_login(other)
    response = lee.post(link)
    assert b"acts for Elsewhere" in response.content
    assert VendorMembership.objects.filter(user=other).count() == 1


def test_the_last_owner_cannot_be_removed(dealer):
    own = VendorMembership.objects.get(user=dealer.user)
    response = dealer.post(f"/vendor/team/{own.pk}/remove/")
    assert b"last owner" in response.content
    own.refresh_from_db()
    assert own.removed_at is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not an email", "role": "member"}, "email"),
        ({"email": "", "role": "member"}, "email"),
        ({"email": "sam@croydon.example", "role": "admin"}, "role"),
        ({"email": "owner@croydon.example", "role": "member"}, "email"),  # already in the team
    ],
)
def test_bad_invitation_shows_the_message_by_the_field(dealer, data, field):
    response = dealer.post("/vendor/team/", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'id="id_{field}-errors"'.encode() in response.content
    assert not VendorInvitation.objects.exists() and mail.outbox == []


def test_bad_password_for_a_new_login_saves_nothing(dealer, django_capture_on_commit_callbacks):
    link = invite(dealer, "sam@croydon.example", django_capture_on_commit_callbacks)
    for data, field in (
        ({"password1": "123", "password2": "123"}, "password1"),
        ({"password1": PASSWORD, "password2": "other"}, "password2"),
    ):
        response = Client().post(link, data)
        assert response.status_code == 400 and field in response.context["form"].errors
    assert not VendorMembership.objects.filter(user__email="sam@croydon.example").exists()
    assert VendorInvitation.objects.get().accepted_at is None


def test_a_customer_account_cannot_open_the_vendor_area(customer_client):
    for path in ("/vendor/", "/vendor/keys/", "/vendor/webhooks/", "/vendor/team/", "/vendor/signup/"):
        response = customer_client.get(path)
        assert response.status_code == 403, path
        assert b"customer's account" in response.content


def test_a_vendor_login_cannot_open_a_customers_pages(dealer, customer, publish, subscribe):
    intent = publish(customer)
    for path in (
        "/requests/",
        "/requests/new/",
        f"/requests/{intent.pk}/",
        "/my-data/",
        "/notifications/",
        "/vendors/",
    ):
        response = dealer.get(path)
        assert response.status_code == 403, path
        assert b"vendor's login" in response.content
    assert dealer.post("/requests/new/?category=1&country=GB", {"title": "x"}).status_code == 403
    assert dealer.get("/").status_code == 200  # the home page is everyone's


def test_anonymous_visitors_are_sent_to_log_in():
    response = Client().get("/vendor/keys/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/vendor/keys/")


def test_a_vendor_login_lands_in_the_vendor_area(dealer):
    client = Client()
    dealer.user.set_password(PASSWORD)
    dealer.user.save()
    response = client.post("/accounts/login/", {"login": dealer.user.email, "password": PASSWORD})
    assert response["Location"] == "/vendor/"


def test_a_suspended_vendor_cannot_open_the_area(dealer):
    Vendor.objects.filter(pk=dealer.vendor.pk).update(status=Vendor.Status.SUSPENDED)
    assert dealer.get("/vendor/keys/").status_code == 403
