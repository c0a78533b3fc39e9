"""The inbox of the vendor area: what the API's inbox shows (the customer by her handle only),
offers with the API's validation, passes, messages, answers to her terms and the deal's outcome,
through the same services; a team member acts on it, a removed one cannot; another vendor's
requests are 404."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors import deal
from vendors.models import (
    AgreementAnswer,
    Bid,
    BidPhoto,
    BidRevision,
    DealOutcome,
    Delivery,
    Message,
    Vendor,
    VendorMembership,
)
from vendors.services import deliver
from vendors.team import remove_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(dealer, customer, subscribe, publish):
    """A request of Alice's in the dealer's inbox."""
    subscribe(dealer.vendor)
    intent = publish(customer)
    assert Delivery.objects.filter(vendor=dealer.vendor, intent=intent).exists()
    return intent


def offer(amount="3800", currency="GBP", **extra):
    return {"amount": amount, "currency": currency, "message": "Silver 2012 Yaris T3, 38,000 miles.", **extra}


def test_the_inbox_lists_her_request_by_handle_and_opening_it_marks_it_seen(dealer, delivered, customer):
    inbox = dealer.get("/vendor/requests/")
    page = inbox.content.decode()
    handle = inbox.context["rows"][0]["view"]["customer"]["handle"]
    assert delivered.title in page and handle in page and "New" in page
    assert "up to £4,000" in page  # the budget for people

    detail = dealer.get(f"/vendor/requests/{delivered.pk}/")
    assert detail.status_code == 200
    assert Delivery.objects.get(vendor=dealer.vendor, intent=delivered).seen_at is not None
    text = detail.content.decode()
    assert handle in text and "£4,000" in text
    assert "<dt>Make</dt><dd>Toyota</dd>" in text and "40,000" in text
    for private in (customer.email, customer.username):
        assert private not in text and private not in page


def test_inbox_filters(dealer, delivered, categories):
    assert dealer.get("/vendor/requests/?status=open").context["rows"]
    assert not dealer.get("/vendor/requests/?status=withdrawn").context["rows"]
    assert dealer.get(f"/vendor/requests/?category={categories['vehicles'].pk}").context["rows"]
    assert not dealer.get(f"/vendor/requests/?category={categories['phones'].pk}").context["rows"]
    assert not dealer.get("/vendor/requests/?since=2999-01-01").context["rows"]
    assert not dealer.get("/vendor/requests/?passed=yes").context["rows"]
    assert dealer.get("/vendor/requests/?passed=no").context["rows"]
    assert dealer.get("/vendor/requests/?since=not-a-date").status_code == 400


def test_an_offer_then_a_revision_through_the_apis_services(dealer, delivered):
    response = dealer.post(f"/vendor/requests/{delivered.pk}/offer/", offer(offer_make="Toyota", offer_mileage="38000"))
    assert response.status_code == 302
    bid = Bid.objects.get(vendor=dealer.vendor, intent=delivered)
    assert bid.amount == Decimal("3800") and bid.offered_attributes == {"make": "Toyota", "mileage": 38000}
    revised = dealer.post(f"/vendor/requests/{delivered.pk}/offer/", offer(amount="3700"))
    assert revised.status_code == 302
    bid.refresh_from_db()
    assert bid.amount == Decimal("3700") and BidRevision.objects.filter(bid=bid).count() == 1
    page = dealer.get(f"/vendor/requests/{delivered.pk}/").content.decode()
    assert "£3,700" in page and "Revise your offer" in page
    assert "£3,700" in dealer.get("/vendor/offers/").content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (offer(amount=""), "amount"),
        (offer(amount="lots"), "amount"),
        (offer(amount="-1"), "amount"),
        (offer(amount="1" * 20), "amount"),
        (offer(currency="EUR"), "currency"),  # the request is in GBP
        (offer(currency="XYZ"), "currency"),
        (offer(currency="GB"), "currency"),
        (offer(offer_make="Trabant"), "offer_make"),
        (offer(offer_mileage="lots"), "offer_mileage"),
        (offer(offer_doors="12"), "offer_doors"),
        (offer(offer_year="1900"), "offer_year"),
        (offer(message="x" * 5001), "message"),
    ],
)
def test_a_bad_offer_is_shown_next_to_its_field_and_saves_nothing(dealer, delivered, data, field):
    response = dealer.post(f"/vendor/requests/{delivered.pk}/offer/", data)
    assert response.status_code == 400
    form = response.context["offer_form"]
    assert field in form.errors, form.errors
    assert f'id="{form[field].auto_id}-errors"' in response.content.decode()
    assert not Bid.objects.exists()


def test_pass_with_a_reason_and_a_bad_reason(dealer, delivered):
    bad = dealer.post(f"/vendor/requests/{delivered.pk}/pass/", {"reason": "bored"})
    assert bad.status_code == 400 and "reason" in bad.context["pass_form"].errors
    assert Delivery.objects.get(intent=delivered).passed_at is None
    assert dealer.post(f"/vendor/requests/{delivered.pk}/pass/", {"reason": "price"}).status_code == 302
    delivery = Delivery.objects.get(intent=delivered)
    assert delivery.passed_at is not None and delivery.pass_reason == "price"
    assert dealer.get("/vendor/requests/?passed=yes").context["rows"]


@pytest.mark.parametrize(("body", "status"), [("", 400), ("   ", 400), ("x" * 5001, 400), ("Is it still open?", 302)])
def test_messages_to_the_customer(dealer, delivered, body, status):
    response = dealer.post(f"/vendor/requests/{delivered.pk}/message/", {"body": body})
    assert response.status_code == status
    if status == 400:
        assert "body" in response.context["message_form"].errors and not Message.objects.exists()
    else:
        message = Message.objects.get()
        assert message.body == body and message.sender == Message.Sender.VENDOR
        assert body in dealer.get(f"/vendor/requests/{delivered.pk}/").content.decode()


def test_answering_her_terms(dealer, delivered):
    missing = dealer.post(f"/vendor/requests/{delivered.pk}/terms/", {"answer": "propose"})
    assert missing.status_code == 400 and "agreement" in missing.context["terms_form"].errors
    assert dealer.post(f"/vendor/requests/{delivered.pk}/terms/", {"answer": "accept"}).status_code == 302
    assert AgreementAnswer.objects.get(vendor=dealer.vendor).answer == "accept"
    again = dealer.post(f"/vendor/requests/{delivered.pk}/terms/", {"answer": "decline"}, follow=True)
    assert "already answered" in again.content.decode()


def test_the_deal_and_its_outcome(dealer, delivered, customer):
    dealer.post(f"/vendor/requests/{delivered.pk}/offer/", offer())
    bid = Bid.objects.get()
    deal.accept_bid(customer=customer, bid_id=bid.pk)
    page = dealer.get(f"/vendor/requests/{delivered.pk}/").content.decode()
    assert "She accepted your offer" in page
    no_reason = dealer.post(f"/vendor/requests/{delivered.pk}/outcome/", {"outcome": "fell_through"})
    assert no_reason.status_code == 400 and "reason" in no_reason.context["outcome_form"].errors
    assert not DealOutcome.objects.exists()
    done = dealer.post(f"/vendor/requests/{delivered.pk}/outcome/", {"outcome": "completed"})
    assert done.status_code == 302
    assert DealOutcome.objects.get(bid=bid).outcome == "completed"
    assert "Deal completed" in dealer.get("/vendor/offers/?status=accepted").content.decode()


def test_another_vendors_request_is_404(dealer, customer, subscribe, publish):
    other = VendorFactory(name="Elsewhere Cars")
    subscribe(other)
    intent = publish(customer)
    assert not Delivery.objects.filter(vendor=dealer.vendor).exists()
    assert dealer.get(f"/vendor/requests/{intent.pk}/").status_code == 404
    for action, data in (
        ("offer", offer()),
        ("pass", {}),
        ("message", {"body": "Hi"}),
        ("terms", {"answer": "accept"}),
    ):
        assert dealer.post(f"/vendor/requests/{intent.pk}/{action}/", data).status_code == 404
    assert not Bid.objects.exists() and not Message.objects.exists()
    assert intent.title not in dealer.get("/vendor/requests/").content.decode()


def test_a_member_acts_on_the_inbox_and_a_removed_one_cannot(dealer, delivered):
    sam = UserFactory(username="sam", email="sam@croydon.example")
    membership = VendorMembership.objects.create(vendor=dealer.vendor, user=sam, role=VendorMembership.Role.MEMBER)
    client = Client()
    client.force_login(sam)
    assert client.get("/vendor/requests/").status_code == 200
    assert client.post(f"/vendor/requests/{delivered.pk}/offer/", offer()).status_code == 302
    assert Bid.objects.get().vendor == dealer.vendor

    remove_member(membership=membership, by=dealer.user)
    assert client.get("/vendor/requests/").status_code == 403
    assert client.get(f"/vendor/requests/{delivered.pk}/").status_code == 403
    assert client.post(f"/vendor/requests/{delivered.pk}/message/", {"body": "Hello"}).status_code == 403
    assert client.get("/vendor/subscriptions/").status_code == 403
    assert not Message.objects.exists()


def test_a_pending_vendor_has_no_inbox_yet(dealer):
    Vendor.objects.filter(pk=dealer.vendor.pk).update(status=Vendor.Status.PENDING)
    assert dealer.get("/vendor/requests/")["Location"] == "/vendor/"
    assert dealer.get("/vendor/subscriptions/")["Location"] == "/vendor/"


def test_photos_of_an_offer_and_a_bad_file(dealer, delivered, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    dealer.post(f"/vendor/requests/{delivered.pk}/offer/", offer())
    bid = Bid.objects.get()
    bad = dealer.post(
        f"/vendor/requests/{delivered.pk}/photos/", {"photo": SimpleUploadedFile("car.jpg", b"not an image")}
    )
    assert bad.status_code == 400 and "photo" in bad.context["photo_form"].errors
    assert not BidPhoto.objects.exists()
    png = io.BytesIO()
    Image.new("RGB", (64, 48), "silver").save(png, format="PNG")
    added = dealer.post(
        f"/vendor/requests/{delivered.pk}/photos/", {"photo": SimpleUploadedFile("car.png", png.getvalue())}
    )
    assert added.status_code == 302
    photo = BidPhoto.objects.get(bid=bid)
    assert photo.image.url in dealer.get(f"/vendor/requests/{delivered.pk}/").content.decode()
    dealer.post(f"/vendor/requests/{delivered.pk}/photos/{photo.pk}/remove/")
    assert not BidPhoto.objects.exists()


def test_the_inbox_is_paginated_newest_first_and_its_first_page_polls(dealer, categories, regions, customer):
    intents = [
        IntentFactory(
            customer=customer,
            title=f"Request {n}",
            category=categories["cars"],
            region=regions["GB-LND"],
        )
        for n in range(27)
    ]
    for intent in intents:
        deliver(intent=intent, matches=[(dealer.vendor.pk, None)])
    first = dealer.get("/vendor/requests/")
    titles = [row["intent"].title for row in first.context["rows"]]
    assert titles[0] == "Request 26" and len(titles) == 25
    page = first.content.decode()
    assert 'hx-trigger="every 5s"' in page and "htmx" in page and 'rel="next"' in page
    second = dealer.get("/vendor/requests/?page=2")
    assert [row["intent"].title for row in second.context["rows"]] == ["Request 1", "Request 0"]
    assert 'hx-trigger="every 5s"' not in second.content.decode()  # an older page stays still
