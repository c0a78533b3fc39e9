"""A business signs up, waits, is approved (or turned down) in admin, creates a key and uses it."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from broker.models import AuditLog
from tests.vendor_site.conftest import signup_data
from vendors.models import ApiKey, Vendor, VendorMembership

pytestmark = pytest.mark.django_db

VENDOR_ADMIN = "/admin/vendors/vendor/"


def sign_up(client, categories, regions, overrides=None):
    return client.post("/vendor/signup/", signup_data(categories, regions, overrides))


def admin_action(admin_client, action, vendor, **extra):
    return admin_client.post(VENDOR_ADMIN, {"action": action, ACTION_CHECKBOX_NAME: [vendor.pk], **extra})


def test_signup_pending_approved_key_api_revoked(categories, regions, admin_client, django_capture_on_commit_callbacks):
    client = Client()
    response = sign_up(client, categories, regions)
    assert response.status_code == 302
    vendor = Vendor.objects.get()
    assert vendor.status == Vendor.Status.PENDING
    assert (vendor.name, vendor.contact_email, vendor.website) == (
        "Bob's Cars",
        "bob@bobscars.example",
        "https://bobscars.example",
    )
    assert list(vendor.categories.all()) == [categories["cars"]] and list(vendor.regions.all()) == [regions["GB"]]
    owner = VendorMembership.objects.get(vendor=vendor)
    assert owner.role == VendorMembership.Role.OWNER and owner.user.email == "bob@bobscars.example"
    assert any("confirm" in m.subject.lower() for m in mail.outbox)  # allauth's confirmation link

    # Pending: the dashboard says so; keys wait for the approval.
    dashboard = client.get("/vendor/")
    assert dashboard.status_code == 200 and b"Awaiting approval" in dashboard.content
    assert client.get("/vendor/keys/")["Location"] == "/vendor/"

    # The approval queue in admin, then the approval, emailed.
    queue = admin_client.get(VENDOR_ADMIN, {"queue": "awaiting"})
    assert b"Bob&#x27;s Cars" in queue.content
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        admin_action(admin_client, "approve", vendor)
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.APPROVED
    assert [m.to for m in mail.outbox] == [["bob@bobscars.example"]] and "approved" in mail.outbox[0].subject
    assert AuditLog.objects.filter(action="vendor.approved", target_id=str(vendor.pk)).exists()

    # A key, shown once, works on the API.
    created = client.post("/vendor/keys/", {"name": "Dealer system"})
    assert created.status_code == 200 and "no-store" in created["Cache-Control"]
    raw_key = created.context["raw_key"]
    api_key = ApiKey.objects.get(vendor=vendor)
    assert raw_key.startswith(f"ic_{api_key.prefix}_") and raw_key not in api_key.digest
    listed = client.get("/vendor/keys/").content.decode()
    assert f"ic_{api_key.prefix}_" in listed and "Dealer system" in listed and raw_key not in listed
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert api.get("/api/v1/intents/").status_code == 200
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None

    # Revoked: a confirmation first, then 401.
    assert b"cannot be undone" in client.get(f"/vendor/keys/{api_key.pk}/revoke/").content
    client.post(f"/vendor/keys/{api_key.pk}/revoke/")
    assert api.get("/api/v1/intents/").status_code == 401


def test_rejected_vendor_is_emailed_the_reason_and_cannot_open_the_area(
    categories, regions, admin_client, django_capture_on_commit_callbacks
):
    client = Client()
    sign_up(client, categories, regions)
    vendor = Vendor.objects.get()
    mail.outbox.clear()

    # No reason: refused next to the field, nothing changed.
    page = admin_action(admin_client, "reject", vendor, apply="1", reason="  ")
    assert page.status_code == 200 and b"Say why" in page.content
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.PENDING and mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        admin_action(
            admin_client, "reject", vendor, apply="1", reason="We could not find the business at that address."
        )
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.REJECTED
    assert [m.to for m in mail.outbox] == [["bob@bobscars.example"]]
    assert "could not find the business" in mail.outbox[0].body
    assert AuditLog.objects.filter(action="vendor.rejected", target_id=str(vendor.pk)).exists()

    for path in ("/vendor/", "/vendor/keys/", "/vendor/webhooks/", "/vendor/team/"):
        response = client.get(path)
        assert response.status_code == 403, path
    assert b"could not find the business" in client.get("/vendor/").content
    # Logging in again changes nothing.
    fresh = Client()
    fresh.post("/accounts/login/", {"login": "bob@bobscars.example", "password": "a long unusual passphrase"})
    assert fresh.get("/vendor/keys/").status_code == 403


def test_an_approved_vendor_cannot_be_rejected(admin_client, dealer):
    page = admin_action(admin_client, "reject", dealer.vendor, apply="1", reason="Changed our mind")
    assert b"Only a vendor awaiting approval" in page.content
    dealer.vendor.refresh_from_db()
    assert dealer.vendor.status == Vendor.Status.APPROVED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"business_name": "   "}, "business_name"),
        ({"business_name": "x" * 201}, "business_name"),
        ({"email": "not-an-email"}, "email"),
        ({"password2": "something else entirely"}, "password2"),
        ({"password1": "123", "password2": "123"}, "password1"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "bobscars"}, "website"),
        ({"description": "x" * 1001}, "description"),
        ({"categories": []}, "categories"),
        ({"categories": [999999]}, "categories"),
        ({"regions": []}, "regions"),
        ({"regions": ["XX"]}, "regions"),
    ],
)
def test_bad_signup_shows_the_message_by_the_field_and_saves_nothing(categories, regions, overrides, field):
    response = sign_up(Client(), categories, regions, overrides)
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert f'id="id_{field}-errors"'.encode() in response.content
    assert not Vendor.objects.exists() and not VendorMembership.objects.exists()
    assert not get_user_model().objects.filter(email="bob@bobscars.example").exists()


def test_an_address_with_an_account_signs_up_nothing(categories, regions, customer):
    response = sign_up(Client(), categories, regions, {"email": customer.email})
    assert response.status_code in (200, 302)
    assert not Vendor.objects.exists()
    assert not VendorMembership.objects.filter(user=customer).exists()
