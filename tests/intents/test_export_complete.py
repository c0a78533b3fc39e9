"""Principle 3, no lock-in: the export holds every table that holds her data, in both forms.

The first test inspects the models: any table with a foreign-key chain to her account, to one of
her requests or to one of her pseudonyms holds her data, and must be named below either as an
export section or as an exemption with its reason. A table added later (by any app) fails this
test until it is one or the other. The others check that each section is really filled, and
that the CSV zip says exactly what the JSON says, section by section.
"""

import csv
import io
import json
import zipfile
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from PIL import Image

from broker.personal_data import SCHEMA_VERSION, export_csv, export_customer_data, export_sections
from intents.models import Intent, Notification
from intents.notifications import save_email_choices
from moderation.services import file_customer_report
from reputation.models import Rating
from reputation.services import rate
from vendors.deal import accept_bid, counter_bid, mark_outcome
from vendors.models import Bid, DealOutcome, Message, Pseudonym
from vendors.photos import add_photo
from vendors.relationships import block_vendor, reveal_identity, save_vendor_note
from vendors.services import place_bid, revise_bid
from vendors.threads import post_message

pytestmark = pytest.mark.django_db

# Each table that holds her data, and the export section that holds it.
EXPORTED = {
    "auth.User": "account",
    "account.EmailAddress": "account",  # account.email_addresses
    "intents.Intent": "requests",
    "intents.Notification": "notifications",
    "intents.NotificationPreference": "notification_preferences",
    "vendors.Delivery": "deliveries",
    "vendors.AudienceChoice": "requests",
    "vendors.AgreementAnswer": "terms_answers",
    "vendors.AgreementRecord": "agreements",  # requests[].audience.invited / excluded
    "vendors.Pseudonym": "pseudonyms",
    "vendors.Block": "blocks",
    "vendors.IdentityReveal": "identity_shared_with",
    "vendors.VendorNote": "vendor_notes",
    "vendors.Bid": "bids_received",
    "vendors.BidRevision": "bid_revisions",
    "vendors.BidCounter": "counters",
    "vendors.DealOutcome": "deal_outcomes",
    "vendors.BidPhoto": "bid_photos",
    "vendors.Message": "messages",
    "reputation.Rating": "ratings",
    "reputation.CustomerScore": "reputation",
    "moderation.Report": "reports",
}
# Tables that point at her but are not exported, and why.
EXEMPT = {
    # Django admin's log of what staff did in the admin; its user is the moderator who acted.
    "admin.LogEntry",
    # The audit log of moderation; its actor is a moderator (a customer's own acts are recorded
    # with no actor). Kept for accountability, and holds nothing she typed.
    "broker.AuditLog",
    # allauth's one-time confirmation keys for an address that is exported in account.email_addresses.
    "account.EmailConfirmation",
    # The vendor's staff accounts (Vendor.users through VendorMembership) and the invitations an
    # owner sent: vendors' people, never customers (a vendor login cannot open a customer's pages,
    # docs/vendors.md), so no customer's export has a row there.
    "vendors.Vendor",
    "vendors.VendorMembership",
    "vendors.VendorInvitation",
    # A moderator's record that her account and a vendor are one party (reputation's defence
    # against self-rating) and the ring detector's review queue: fraud-prevention records about
    # her, kept from her while a review runs (GDPR Art. 23 (1)(d)); what they change, her
    # ratings counting or not, is in her export through "ratings" and "reputation".
    "reputation.AccountLink",
    "reputation.RingFlag",
}
HER = {get_user_model(), Intent, Pseudonym}


def _chain_to_her(model: type[models.Model], seen: frozenset = frozenset()) -> bool:
    """Whether ``model`` has a foreign-key chain to her account, a request or a pseudonym."""
    if model in HER:
        return True
    for field in model._meta.get_fields():
        if (field.many_to_one or field.one_to_one) and field.concrete and field.related_model is not None:
            target = field.related_model
            if target not in seen and target is not model and _chain_to_her(target, seen | {model}):
                return True
    return False


def _points_at_her(model: type[models.Model]) -> bool:
    """A chain of foreign keys to her, or a many-to-many to accounts on the table itself."""
    many_to_user = any(
        field.many_to_many and field.concrete and field.related_model is get_user_model()
        for field in model._meta.get_fields()
    )
    return many_to_user or _chain_to_her(model)


def test_every_table_that_holds_her_data_is_exported_or_exempt_with_a_reason():
    holding = {model._meta.label for model in apps.get_models() if _points_at_her(model)}
    missing = holding - set(EXPORTED) - EXEMPT
    assert not missing, f"Tables with her data that the export misses (add a section, or an exemption): {missing}"
    assert set(EXPORTED) <= holding  # the list names real tables of hers
    assert not EXEMPT & set(EXPORTED)


@pytest.fixture
def everything(customer, vendor, publish, subscribe, django_capture_on_commit_callbacks):
    """A customer with a row in every table of hers."""
    customer.first_name, customer.last_name = "Alice", "Liddell"
    customer.save()
    EmailAddress.objects.create(user=customer, email=customer.email, verified=True, primary=True)
    save_email_choices(customer=customer, choices={Notification.Kind.OFFER: False})
    subscribe(vendor)
    intent = publish(customer, details="Silver, please.")
    with django_capture_on_commit_callbacks(execute=True):
        bid = place_bid(
            vendor=vendor,
            intent_id=intent.pk,
            amount=Decimal("3750"),
            currency="GBP",
            offered_attributes={"make": "Toyota", "trim": ["T3"]},
        )
        counter_bid(customer=customer, bid_id=bid.pk, target_amount=Decimal("3500"), note="3,500?")
        revise_bid(bid=bid, amount=Decimal("3600"), message='Met you halfway, "quoted", with a comma')
        image = io.BytesIO()
        Image.new("RGB", (64, 40), (192, 192, 196)).save(image, "JPEG")
        add_photo(vendor=vendor, bid=bid, upload=SimpleUploadedFile("car.jpg", image.getvalue()))
        post_message(intent=intent, vendor=vendor, sender=Message.Sender.VENDOR, body="Line one\nline two")
        post_message(intent=intent, vendor=vendor, sender=Message.Sender.CUSTOMER, body="Thanks")
        accept_bid(customer=customer, bid_id=bid.pk)
    reveal_identity(customer=customer, intent_id=intent.pk, name="Alice Liddell", email="alice@example.com")
    bid = Bid.objects.get(pk=bid.pk)
    mark_outcome(bid=bid, side=DealOutcome.Side.CUSTOMER, outcome=DealOutcome.Outcome.COMPLETED, customer=customer)
    rate(bid=bid, by=Rating.Side.CUSTOMER, score=5, comment="Lovely")
    save_vendor_note(customer=customer, vendor_id=vendor.pk, body="Ask for Tom")
    file_customer_report(customer=customer, subject="offer", subject_id=bid.pk, reason="broke_agreement", text="Late")
    block_vendor(customer=customer, vendor_id=vendor.pk)
    return intent


def test_every_section_is_filled_for_a_customer_with_data_everywhere(customer, everything):
    data = export_customer_data(customer=customer)
    json.dumps(data)  # JSON-ready
    assert data["schema_version"] == SCHEMA_VERSION
    for section in set(EXPORTED.values()):
        assert data[section], f"section {section} is empty"
    assert data["account"]["email_addresses"] == [{"email": customer.email, "verified": True, "primary": True}]
    assert data["vendor_notes"][0]["note"] == "Ask for Tom"
    assert data["blocks"][0]["blocked_by"] == "customer"
    assert {n["kind"] for n in data["notifications"]} >= {"offer", "message", "deal"}
    assert {"kind": "offer", "email": False, "chosen": True} in data["notification_preferences"]
    assert data["identity_shared_with"][0]["name"] == "Alice Liddell"
    assert data["bid_revisions"][0]["amount"] == "3750.00"


def _cell(value):
    """What the CSV holds for a JSON value (docs/export.md): text and integers as they are, null
    as an empty cell, anything else as its JSON text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value  # compared after json.loads


def test_the_csv_zip_says_what_the_json_says_section_by_section(customer, everything):
    data = export_customer_data(customer=customer)
    archive = zipfile.ZipFile(io.BytesIO(export_csv(customer=customer)))
    tables = export_sections(data)
    assert set(archive.namelist()) == {f"{section}.csv" for section in tables}
    assert set(tables) == {"export"} | (set(data) - {"schema_version", "exported_at"})
    for section, rows in tables.items():
        read = list(csv.DictReader(io.StringIO(archive.read(f"{section}.csv").decode())))
        assert len(read) == len(rows), section
        for expected, got in zip(rows, read, strict=True):
            assert set(got) == set(expected), section
            for column, value in expected.items():
                cell = _cell(value)
                if column == "exported_at":  # the two exports were made a moment apart
                    continue
                if isinstance(cell, str):
                    assert got[column] == cell, (section, column)
                else:  # nested values and booleans are JSON text, never Python's repr
                    assert json.loads(got[column]) == value, (section, column)
                    assert "'" not in got[column] or '"' in got[column]
    export_row = next(csv.DictReader(io.StringIO(archive.read("export.csv").decode())))
    assert export_row["schema_version"] == str(SCHEMA_VERSION)


def test_nested_values_in_the_csv_are_json_not_python(customer, everything):
    archive = zipfile.ZipFile(io.BytesIO(export_csv(customer=customer)))
    [bid] = csv.DictReader(io.StringIO(archive.read("bids_received.csv").decode()))
    assert json.loads(bid["offered_attributes"]) == {"make": "Toyota", "trim": ["T3"]}
    assert "True" not in bid["terms_agreed"] and "'" not in bid["terms_agreed"]
    [account] = csv.DictReader(io.StringIO(archive.read("account.csv").decode()))
    assert json.loads(account["email_addresses"])[0]["verified"] is True


def test_a_new_section_appears_in_the_csv_too(customer, everything):
    """The CSV writer is generic over the JSON's sections: one added by another app is written."""
    data = export_customer_data(customer=customer)
    data["agreements"] = [{"id": "no-marketing", "version": 1, "clauses": {"marketing": False}}]
    tables = export_sections(data)
    assert tables["agreements"] == [{"id": "no-marketing", "version": 1, "clauses": {"marketing": False}}]
