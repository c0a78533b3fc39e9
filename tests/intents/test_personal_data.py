import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from broker.models import AuditLog
from broker.personal_data import erase_customer, export_csv, export_customer_data
from intents.models import Intent, Notification, NotificationPreference
from intents.notifications import save_email_choices
from reputation.models import Rating
from reputation.services import rate
from vendors.deal import accept_bid, mark_outcome
from vendors.models import Bid, DealOutcome, Delivery, Message, Pseudonym, VendorEvent, VendorNote
from vendors.relationships import save_vendor_note
from vendors.threads import post_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(customer, vendor, publish, subscribe):
    subscribe(vendor)
    intent = publish(customer, details="Call me Alice Liddell, I live at 1 Wonderland Road.")
    bid = Bid.objects.create(intent=intent, vendor=vendor, amount=3500, currency="GBP", terms_accepted=intent.terms)
    post_message(intent=intent, vendor=vendor, sender=Message.Sender.CUSTOMER, body="Is it silver?")
    accept_bid(customer=customer, bid_id=bid.pk)
    bid.refresh_from_db()
    mark_outcome(bid=bid, side=DealOutcome.Side.CUSTOMER, outcome=DealOutcome.Outcome.COMPLETED, customer=customer)
    rate(bid=bid, by=Rating.Side.CUSTOMER, score=5, comment="Lovely")
    return intent, bid


def test_export_has_everything_about_her(customer, history, vendor):
    intent, bid = history
    data = export_customer_data(customer=customer)
    json.dumps(data)  # JSON-ready
    assert data["account"]["email"] == customer.email
    assert [r["id"] for r in data["requests"]] == [str(intent.pk)]
    assert data["bids_received"][0]["vendor"] == vendor.name
    assert data["bids_received"][0]["terms_agreed"] == intent.terms
    assert data["bids_received"][0]["status"] == "accepted"
    assert data["messages"][0]["body"] == "Is it silver?"
    assert data["ratings"][0]["score"] == 5


def test_csv_export_is_a_zip_of_sections(customer, history):
    archive = zipfile.ZipFile(io.BytesIO(export_csv(customer=customer)))
    assert {
        "export.csv",
        "account.csv",
        "requests.csv",
        "bids_received.csv",
        "messages.csv",
        "ratings.csv",
        "agreements.csv",
    } <= set(archive.namelist())
    assert "Low-mileage Toyota Yaris" in archive.read("requests.csv").decode()


def test_erasure_keeps_nothing_that_identifies_her(customer, history, vendor):
    intent, _ = history
    save_vendor_note(customer=customer, vendor_id=vendor.pk, body="Ask for Tom")
    save_email_choices(customer=customer, choices={"offer": False})
    assert Notification.objects.filter(customer=customer).exists()  # "deal agreed"
    erase_customer(customer=customer)
    assert not VendorNote.objects.exists() and not Notification.objects.exists()
    assert not NotificationPreference.objects.exists()
    assert not get_user_model().objects.filter(email="alice@example.com").exists()
    assert not Intent.objects.exists() and not Bid.objects.exists() and not Message.objects.exists()
    assert not Delivery.objects.exists() and not Pseudonym.objects.exists() and not Rating.objects.exists()
    logs = json.dumps([e.payload for e in VendorEvent.objects.filter(vendor=vendor)])
    assert "Wonderland" not in logs and "Toyota" not in logs and "Is it silver" not in logs
    assert VendorEvent.objects.filter(vendor=vendor, subject=str(intent.pk)).exists()  # the log still reads in order
    log = AuditLog.objects.get(action="customer.erased")
    assert "alice" not in json.dumps(log.detail)


def test_a_sealed_requests_offers_stay_out_of_the_export_until_its_deadline(customer, history):
    intent, bid = history
    Intent.objects.filter(pk=intent.pk).update(format="sealed", sealed_until=timezone.now() + timedelta(days=1))
    data = export_customer_data(customer=customer)
    assert data["requests"][0]["format"] == "sealed" and data["bids_received"] == []
    Intent.objects.filter(pk=intent.pk).update(sealed_until=timezone.now() - timedelta(seconds=1))
    assert [b["id"] for b in export_customer_data(customer=customer)["bids_received"]] == [str(bid.pk)]
