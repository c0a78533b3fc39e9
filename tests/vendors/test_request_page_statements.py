"""Her request page's reads through hand-written statements (PostgreSQL) against the ORM's
querysets they replace there, which other databases still run: the bids with their vendors, flags
and related lists (``intent_bids``), the vendors' answers to her terms with the agreements reached
(``intent_terms_answers``) and who has her request (``audience_rows``); field by field and type by
type, on a request with every state of each."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import VendorFactory
from vendors import selectors
from vendors.agreements import answer_terms, respond_to_proposal
from vendors.deal import withdraw_bid
from vendors.models import AudienceChoice, BidCounter, BidPhoto, BidRevision, Delivery
from vendors.services import place_bid

pytestmark = pytest.mark.django_db
# The statements are PostgreSQL's; other databases run the ORM's querysets (nothing to compare).
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL statement")


def fields_of(obj):
    return {f.attname: (getattr(obj, f.attname), type(getattr(obj, f.attname))) for f in obj._meta.concrete_fields}


def typed(value):
    """A value with its type, all the way down (a dict's or a list's items too)."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [typed(item) for item in value]
    return (value, type(value))


@pytest.fixture
def request_with_everything(customer, publish):
    """Her request with vendors in every state: her terms accepted, accepted by bidding, a proposal
    waiting for her, one she refused, one she accepted, declined; bids with a photo, a revision
    and her request for better, a withdrawn one; deliveries seen, passed, withdrawn, invited."""
    intent = publish(customer)
    now = timezone.now()
    vendors = {
        name: VendorFactory(name=name)
        for name in ("Accepts", "Bids", "Proposes", "Refused", "Agreed", "Declines", "Withdrew", "Passes", "Lost")
    }
    for name, vendor in vendors.items():
        Delivery.objects.create(
            intent=intent,
            vendor=vendor,
            seen_at=now if name in ("Accepts", "Passes") else None,
            passed_at=now if name == "Passes" else None,
            pass_reason=Delivery.PassReason.choices[0][0] if name == "Passes" else "",
            withdrawn_at=now if name == "Lost" else None,
        )
    AudienceChoice.objects.create(intent=intent, vendor=vendors["Proposes"], kind=AudienceChoice.Kind.INVITE)
    AudienceChoice.objects.create(intent=intent, vendor=vendors["Declines"], kind=AudienceChoice.Kind.EXCLUDE)
    answer_terms(vendor=vendors["Accepts"], intent_id=intent.pk, answer="accept")
    for name in ("Proposes", "Refused", "Agreed"):
        answer_terms(vendor=vendors[name], intent_id=intent.pk, answer="propose", code="strict", version=1)
    respond_to_proposal(customer=customer, intent_id=intent.pk, vendor_id=vendors["Refused"].pk, accept=False)
    respond_to_proposal(customer=customer, intent_id=intent.pk, vendor_id=vendors["Agreed"].pk, accept=True)
    answer_terms(vendor=vendors["Declines"], intent_id=intent.pk, answer="decline")
    accepts = place_bid(vendor=vendors["Accepts"], intent_id=intent.pk, amount=Decimal("3500.50"), currency="GBP")
    bids = place_bid(
        vendor=vendors["Bids"],
        intent_id=intent.pk,
        amount=Decimal(3900),
        currency="GBP",
        message="2006 T3",
        offered_attributes={"make": "Toyota", "mileage": 38000},
        valid_until=now + timezone.timedelta(days=3),
    )
    BidPhoto.objects.create(
        bid=bids, image="bid-photos/x.jpg", width=64, height=48, content_type="image/jpeg", byte_size=100, position=0
    )
    BidRevision.objects.create(bid=accepts, amount=Decimal(3600), currency="GBP")
    BidCounter.objects.create(bid=accepts, target_amount=Decimal(3300))
    withdrawn = place_bid(vendor=vendors["Withdrew"], intent_id=intent.pk, amount=Decimal(3000), currency="GBP")
    withdraw_bid(vendor=vendors["Withdrew"], bid=withdrawn)
    return intent


@postgresql_only
def test_the_bids_statement_reads_what_the_orm_reads(request_with_everything):
    intent = request_with_everything
    with CaptureQueriesContext(connection) as captured:
        fast = selectors.intent_bids(intent=intent)
        related = [
            (bid.vendor, list(bid.photos.all()), list(bid.revisions.all()), list(bid.counters.all())) for bid in fast
        ]
    orm = selectors.intent_bids_orm(intent=intent)
    assert len(captured) == 4  # the bids, then the photos, revisions and counters of the bids with some
    assert [fields_of(bid) for bid in fast] == [fields_of(bid) for bid in orm]
    assert [bid.vendor.name for bid in fast] == ["Bids", "Accepts"]  # newest first, the withdrawn one left out
    for bid, (vendor, photos, revisions, counters), other in zip(fast, related, orm, strict=True):
        assert (bid.has_photos, bid.has_revisions, bid.has_counters) == (
            other.has_photos,
            other.has_revisions,
            other.has_counters,
        )
        assert fields_of(vendor) == fields_of(other.vendor)
        assert (bid._state.db, bid._state.adding, vendor._state.adding) == (other._state.db, False, False)
        for mine, theirs in (
            (photos, other.photos.all()),
            (revisions, other.revisions.all()),
            (counters, other.counters.all()),
        ):
            assert [fields_of(row) for row in mine] == [fields_of(row) for row in theirs]
    assert [len(photos) for _, photos, _, _ in related] == [1, 0]


@postgresql_only
def test_the_terms_answers_statement_reads_what_the_orm_reads(request_with_everything):
    intent = request_with_everything
    with CaptureQueriesContext(connection) as captured:
        fast = selectors.intent_terms_answers(intent=intent)
    assert len(captured) == 1
    orm = selectors.intent_terms_answers_orm(intent=intent)
    assert typed(fast) == typed(orm)
    assert {answer["vendor_name"]: answer["record"] is not None for answer in fast} == {
        "Accepts": True,
        "Proposes": False,
        "Refused": False,
        "Agreed": True,
        "Declines": False,
        "Bids": True,
        "Withdrew": True,
    }
    proposed = next(answer for answer in fast if answer["vendor_name"] == "Proposes")
    assert proposed["proposed_title"] and isinstance(proposed["proposed_clauses"], dict | list)


@postgresql_only
def test_the_audience_statement_reads_what_the_orm_reads(request_with_everything):
    intent = request_with_everything
    fast = selectors.audience_rows(intent=intent)
    orm = selectors.audience_rows_orm(intent=intent)
    assert typed(fast) == typed(orm)
    invited = {name for _, name, *_, invited in fast if invited}
    assert invited == {"Proposes"}  # invited, not excluded
    assert [name for _, name, *_ in fast] == sorted(name for _, name, *_ in fast)


def test_a_request_without_bids_answers_or_audience_reads_as_empty(customer, publish):
    intent = publish(customer)
    assert selectors.intent_bids(intent=intent) == selectors.intent_bids_orm(intent=intent) == []
    assert selectors.intent_terms_answers(intent=intent) == selectors.intent_terms_answers_orm(intent=intent) == []
    assert selectors.audience_rows(intent=intent) == list(selectors.audience_rows_orm(intent=intent)) == []
