"""Her terms, answered: the roster, the vendor's answer through the API, her answer to a proposal
on the website, the records both sides hold and their digest."""

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
import rfc8785
from django.core.exceptions import ValidationError
from django.urls import reverse

from broker.core.errors import AgreementImmutable
from broker.personal_data import erase_customer, export_csv, export_customer_data
from intents.models import Agreement, Intent
from intents.services import publish_intent
from tests.factories import UserFactory
from vendors.agreements import respond_to_proposal
from vendors.deal import withdraw_intent
from vendors.models import AgreementAnswer, AgreementRecord, Bid, Pseudonym, VendorEvent

pytestmark = pytest.mark.django_db

BIDS = "/api/v1/bids/"


def roster(code):
    return Agreement.objects.roster().get(code=code)


def answer_url(intent):
    return f"/api/v1/intents/{intent.pk}/agreement/"


def bid(intent):
    return {"intent": str(intent.pk), "amount": "3750.00", "currency": "GBP", "message": "2005 Yaris T3."}


def propose(client, intent, code="strict", version=1):
    return client.post(
        answer_url(intent), {"answer": "propose", "agreement": {"code": code, "version": version}}, format="json"
    )


def respond_url(intent, vendor):
    return reverse("intents:terms_respond", args=[intent.pk, vendor.pk])


@pytest.fixture
def intent(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    return publish(customer)


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


def digest_from_the_api(record, vendor_id):
    """docs/agreements.md's recipe, from what GET /api/v1/agreements/ gives a vendor."""
    reached = datetime.fromisoformat(record["reached_at"]).astimezone(UTC)
    facts = {
        "agreement": {key: record["agreement"][key] for key in ("code", "version", "clauses")},
        "customer": record["customer"],
        "vendor": vendor_id,
        "request": record["intent"],
        "reached_at": reached.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    return hashlib.sha256(rfc8785.dumps(facts)).hexdigest()


def expected_digest(record):
    """The recipe of docs/agreements.md, written out independently of vendors.agreements."""
    facts = {
        "agreement": {"code": record.agreement.code, "version": record.agreement.version, "clauses": record.clauses},
        "customer": record.customer_handle,
        "vendor": record.vendor_id,
        "request": str(record.intent_id),
        "reached_at": record.reached_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    return hashlib.sha256(rfc8785.dumps(facts)).hexdigest()


# The roster ------------------------------------------------------------------------------------


def test_fresh_databases_have_the_standard_roster(db):
    codes = set(Agreement.objects.roster().values_list("code", flat=True))
    assert {"standard", "strict", "direct-contact", "offers-welcome"} <= codes
    assert Agreement.objects.default().code == "standard"


def test_a_used_version_cannot_change_or_be_deleted(intent):
    agreement = intent.agreement
    agreement.refresh_from_db()
    assert agreement.is_used
    agreement.summary = "Something else entirely."
    with pytest.raises(AgreementImmutable):
        agreement.save()
    with pytest.raises(ValidationError):
        agreement.full_clean()
    with pytest.raises(AgreementImmutable):
        Agreement.objects.get(pk=agreement.pk).delete()
    assert Agreement.objects.get(pk=agreement.pk).summary != "Something else entirely."
    retired = Agreement.objects.get(pk=agreement.pk)
    retired.offered = False  # whether it is offered may change
    retired.save()


def test_an_unused_version_may_change_and_clauses_are_validated(db):
    draft = Agreement.objects.create(
        code="draft", version=1, title="Draft", summary="s", clauses={"no_marketing": True}
    )
    draft.title = "Draft, better"
    draft.save()
    draft.clauses = {"no_marketing": "yes", "sell_my_data": True}
    with pytest.raises(ValidationError) as error:
        draft.full_clean()
    assert "clauses" in error.value.message_dict
    draft.clauses = {"delete_after_days": 0}
    with pytest.raises(ValidationError):
        draft.full_clean()
    draft.delete()


def test_the_admin_shows_a_used_version_read_only_and_offers_no_delete(admin_client, intent):
    agreement = intent.agreement
    page = admin_client.get(reverse("admin:intents_agreement_change", args=[agreement.pk])).content.decode()
    assert 'name="summary"' not in page and 'name="offered"' in page
    admin_client.post(
        reverse("admin:intents_agreement_change", args=[agreement.pk]),
        {"code": "x", "version": 9, "title": "Changed", "summary": "Changed", "clauses": "{}", "offered": "on"},
    )
    agreement.refresh_from_db()
    assert agreement.title != "Changed" and agreement.code == "standard"
    assert admin_client.get(reverse("admin:intents_agreement_delete", args=[agreement.pk])).status_code == 403
    unused = roster("strict")
    assert admin_client.get(reverse("admin:intents_agreement_change", args=[unused.pk])).content.count(
        b'name="summary"'
    )


def test_the_roster_is_listed_for_vendors_paginated(vendor_client):
    first = vendor_client.get("/api/v1/terms/?page_size=2").json()
    rest = vendor_client.get(first["next"]).json()
    codes = [a["code"] for a in first["results"] + rest["results"]]
    assert len(first["results"]) == 2 and "standard" in codes and len(codes) == len(set(codes))
    standard = next(a for a in first["results"] + rest["results"] if a["code"] == "standard")
    assert set(standard) == {"code", "version", "title", "summary", "clauses"}
    assert standard["clauses"]["delete_after_days"] == 90


# Her request proffers an agreement --------------------------------------------------------------


def test_the_intent_carries_her_agreement_and_the_old_terms(vendor_client, intent):
    body = vendor_client.get(f"/api/v1/intents/{intent.pk}/").json()
    assert body["agreement"]["code"] == "standard" and body["agreement"]["version"] == 1
    assert body["agreement"]["clauses"]["purpose_limited"] is True
    assert body["terms"] == {"contact_through_broker_only": True, "no_marketing": True, "delete_data_after_days": 90}


def test_the_form_offers_the_roster_and_remembers_her_last_choice(signed_in, customer, categories, regions):
    url = f"{reverse('intents:new')}?category={categories['cars'].pk}&country=GB"
    page = signed_in.get(url).content.decode()
    standard, strict = roster("standard"), roster("strict")
    assert "Strict privacy" in page and strict.summary in page
    assert f'value="{standard.pk}" checked' in page  # the setting's default for her first request
    publish_intent(
        customer=customer, title="A car", category=categories["cars"], region=regions["GB"], agreement=strict
    )
    page = signed_in.get(url).content.decode()
    assert f'value="{strict.pk}" checked' in page and f'value="{standard.pk}" checked' not in page


def test_a_request_posted_with_an_unknown_agreement_shows_the_error_and_saves_nothing(signed_in, categories, regions):
    url = f"{reverse('intents:new')}?category={categories['cars'].pk}&country=GB"
    response = signed_in.post(url, {"title": "A Yaris", "region": "GB", "currency": "GBP", "agreement": "999999"})
    assert response.status_code == 200
    assert "Choose one of the agreements listed." in response.content.decode()
    assert not Intent.objects.exists()


def test_the_request_posted_proffers_the_chosen_agreement(signed_in, categories, regions):
    url = f"{reverse('intents:new')}?category={categories['cars'].pk}&country=GB"
    strict = roster("strict")
    signed_in.post(url, {"title": "A Yaris", "region": "GB", "currency": "GBP", "agreement": str(strict.pk)})
    intent = Intent.objects.get()
    assert intent.agreement == strict
    assert intent.terms == {"contact_through_broker_only": True, "no_marketing": True, "delete_data_after_days": 30}
    page = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "Your terms: Strict privacy" in page and "Do not share anything about me with third parties." in page


# The vendor answers -------------------------------------------------------------------------------


def test_accepting_records_the_agreement_with_its_digest(vendor_client, customer, intent):
    response = vendor_client.post(answer_url(intent), {"answer": "accept"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    handle = Pseudonym.objects.get(customer=customer, vendor=vendor_client.vendor).handle
    assert body["answer"] == "accept" and body["customer"] == handle and body["record"]["customer"] == handle
    record = AgreementRecord.objects.get()
    assert record.agreement.code == "standard" and record.customer_handle == handle
    assert body["record"]["digest"] == record.digest == expected_digest(record)
    # and bidding stands on it
    bid_response = vendor_client.post(BIDS, bid(intent), format="json")
    assert bid_response.status_code == 201 and AgreementRecord.objects.count() == 1
    assert bid_response.json()["terms_accepted"] == intent.terms


def test_bidding_without_answering_accepts_her_terms(vendor_client, intent, signed_in):
    assert vendor_client.post(BIDS, bid(intent), format="json").status_code == 201
    answer = AgreementAnswer.objects.get()
    assert answer.answer == "accept" and answer.implicit
    record = AgreementRecord.objects.get()
    assert record.agreement == intent.agreement and record.digest == expected_digest(record)
    assert vendor_client.get(answer_url(intent)).json()["implicit"] is True
    page = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "Accepted your terms by bidding" in page and record.digest in page


def test_declining_means_it_cannot_bid(vendor_client, intent, signed_in):
    assert vendor_client.post(answer_url(intent), {"answer": "decline"}, format="json").status_code == 200
    response = vendor_client.post(BIDS, bid(intent), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "terms_not_agreed" and "intent" in response.json()["error"]["fields"]
    assert not Bid.objects.exists() and not AgreementRecord.objects.exists()
    page = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "declined your terms" in page


def test_a_proposal_she_accepts_is_recorded_and_the_vendor_told(
    vendor_client, customer, intent, signed_in, django_capture_on_commit_callbacks
):
    assert propose(vendor_client, intent).status_code == 200
    assert vendor_client.post(BIDS, bid(intent), format="json").json()["error"]["code"] == "terms_not_agreed"
    page = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "proposes “Strict privacy” instead of your terms" in page
    assert f'action="{respond_url(intent, vendor_client.vendor)}"' in page and 'value="accept"' in page
    # the first post asks her to confirm, and changes nothing
    confirm = signed_in.post(respond_url(intent, vendor_client.vendor), {"response": "accept"})
    assert confirm.status_code == 200 and "Your answer is final" in confirm.content.decode()
    assert AgreementAnswer.objects.get().response == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        done = signed_in.post(respond_url(intent, vendor_client.vendor), {"response": "accept", "confirmed": "yes"})
    assert done.status_code == 302
    record = AgreementRecord.objects.get()
    assert record.agreement == roster("strict") and record.digest == expected_digest(record)
    event = VendorEvent.objects.get(vendor=vendor_client.vendor, kind="agreement.accepted")
    data = event.payload["data"]
    assert data["response"] == "accepted" and data["record"]["digest"] == record.digest
    assert data["proposed"]["code"] == "strict" and data["terms"]["code"] == "standard"
    assert customer.email not in json.dumps(event.payload) and customer.username not in json.dumps(event.payload)
    # now it may bid, on the agreement reached
    response = vendor_client.post(BIDS, bid(intent), format="json")
    assert response.status_code == 201 and response.json()["terms_accepted"]["delete_data_after_days"] == 30
    page = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "agreed with you on “Strict privacy”, its proposal" in page
    strict = roster("strict")
    assert f': “Strict privacy” (version {strict.version}) · digest <code class="digest">{record.digest}</code>' in page


def test_a_proposal_she_refuses_leaves_the_vendor_to_accept_or_decline(
    vendor_client, intent, signed_in, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        propose(vendor_client, intent, code="offers-welcome")
    assert [m.subject for m in mailoutbox] == [f"Yaris Specialists proposes other terms for “{intent.title}”"]
    assert mailoutbox[0].to == ["alice@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(respond_url(intent, vendor_client.vendor), {"response": "refuse", "confirmed": "yes"})
    answer = AgreementAnswer.objects.get()
    assert answer.response == "refused" and not AgreementRecord.objects.exists()
    event = VendorEvent.objects.get(vendor=vendor_client.vendor, kind="agreement.refused")
    assert event.payload["data"]["response"] == "refused" and event.payload["data"]["record"] is None
    assert vendor_client.get(answer_url(intent)).json()["response"] == "refused"
    again = propose(vendor_client, intent, code="strict")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_answered"
    # bidding after her refusal accepts her terms
    assert vendor_client.post(BIDS, bid(intent), format="json").status_code == 201
    assert AgreementRecord.objects.get().agreement == intent.agreement
    page = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "after you refused “Offers welcome”" in page


def test_after_her_refusal_the_vendor_may_decline(vendor_client, customer, intent):
    propose(vendor_client, intent)
    respond_to_proposal(customer=customer, intent_id=intent.pk, vendor_id=vendor_client.vendor.pk, accept=False)
    assert vendor_client.post(answer_url(intent), {"answer": "decline"}, format="json").status_code == 200
    assert vendor_client.post(BIDS, bid(intent), format="json").json()["error"]["code"] == "terms_not_agreed"


# Bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answer": "maybe"}, "answer"),
        ({}, "answer"),
        ({"answer": "propose"}, "agreement"),
        ({"answer": "propose", "agreement": {"code": "nonexistent", "version": 1}}, "agreement"),
        ({"answer": "propose", "agreement": {"code": "strict", "version": 99}}, "agreement"),
        ({"answer": "propose", "agreement": {"code": "strict", "version": "one"}}, "agreement"),
        ({"answer": "propose", "agreement": {"code": "standard", "version": 1}}, "agreement"),
        ({"answer": "accept", "agreement": {"code": "strict", "version": 1}}, "agreement"),
    ],
)
def test_bad_answers_are_400_and_change_nothing(vendor_client, intent, body, field):
    response = vendor_client.post(answer_url(intent), body, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert not AgreementAnswer.objects.exists() and not AgreementRecord.objects.exists()


def test_answering_twice_is_409(vendor_client, intent):
    vendor_client.post(answer_url(intent), {"answer": "accept"}, format="json")
    for body in (
        {"answer": "decline"},
        {"answer": "accept"},
        {"answer": "propose", "agreement": {"code": "strict", "version": 1}},
    ):
        response = vendor_client.post(answer_url(intent), body, format="json")
        assert response.status_code == 409 and response.json()["error"]["code"] == "already_answered"
    assert AgreementAnswer.objects.get().answer == "accept" and AgreementRecord.objects.count() == 1


def test_a_pending_proposal_cannot_be_replaced(vendor_client, intent):
    propose(vendor_client, intent)
    response = vendor_client.post(answer_url(intent), {"answer": "accept"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_answered"


def test_answering_a_closed_request_is_409(vendor_client, customer, intent):
    withdraw_intent(customer=customer, intent_id=intent.pk)
    response = vendor_client.post(answer_url(intent), {"answer": "accept"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "intent_closed"
    assert not AgreementAnswer.objects.exists()


def test_answering_a_request_not_in_the_inbox_is_404(make_vendor_client, intent):
    stranger = make_vendor_client()
    response = stranger.post(answer_url(intent), {"answer": "accept"}, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert stranger.get(answer_url(intent)).status_code == 404


def test_reading_an_answer_before_answering_is_404(vendor_client, intent):
    response = vendor_client.get(answer_url(intent))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_website_bad_input_and_repeated_answers(vendor_client, intent, signed_in, client, customer):
    propose(vendor_client, intent)
    url = respond_url(intent, vendor_client.vendor)
    bad = signed_in.post(url, {"response": "perhaps", "confirmed": "yes"})
    assert bad.status_code == 200 and "Choose to accept or to refuse the proposal." in bad.content.decode()
    assert 'aria-invalid="true"' in bad.content.decode()
    assert AgreementAnswer.objects.get().response == "pending"
    signed_in.post(url, {"response": "refuse", "confirmed": "yes"})
    again = signed_in.post(url, {"response": "accept", "confirmed": "yes"}, follow=True)
    assert "You have already refused this proposal." in again.content.decode()
    assert AgreementAnswer.objects.get().response == "refused" and not AgreementRecord.objects.exists()
    # a vendor that proposed nothing, and somebody else's request
    assert (
        signed_in.post(respond_url(intent, type("V", (), {"pk": 999999})()), {"response": "accept"}).status_code == 404
    )
    client.force_login(UserFactory(username="mallory"))
    assert client.post(url, {"response": "accept", "confirmed": "yes"}).status_code == 404


# The records both sides hold ---------------------------------------------------------------------


def test_a_vendor_lists_only_its_own_records_with_handles_and_no_account_data(
    vendor_client, make_vendor_client, customer, intent, subscribe, publish
):
    other = make_vendor_client()
    subscribe(other.vendor)
    second = publish(customer, title="Another Yaris")
    vendor_client.post(answer_url(intent), {"answer": "accept"}, format="json")
    other.post(answer_url(second), {"answer": "accept"}, format="json")
    listed = vendor_client.get("/api/v1/agreements/").json()
    assert [r["intent"] for r in listed["results"]] == [str(intent.pk)]
    record = listed["results"][0]
    handle = Pseudonym.objects.get(customer=customer, vendor=vendor_client.vendor).handle
    other_handle = Pseudonym.objects.get(customer=customer, vendor=other.vendor).handle
    assert record["customer"] == handle and handle != other_handle
    text = json.dumps(listed)
    assert customer.email not in text and "alice" not in text and other_handle not in text
    assert set(record) == {"id", "intent", "customer", "agreement", "reached_at", "digest"}
    assert record["digest"] == expected_digest(AgreementRecord.objects.get(vendor=vendor_client.vendor))
    assert record["digest"] == digest_from_the_api(record, vendor_client.get("/api/v1/me/").json()["id"])
    assert [r["intent"] for r in other.get("/api/v1/agreements/").json()["results"]] == [str(second.pk)]


def test_she_finds_her_agreements_in_her_export(vendor_client, customer, intent):
    vendor_client.post(answer_url(intent), {"answer": "accept"}, format="json")
    record = AgreementRecord.objects.get()
    exported = export_customer_data(customer=customer)["agreements"]
    assert exported == [
        {
            "request": str(intent.pk),
            "vendor": vendor_client.vendor.name,
            "vendor_id": vendor_client.vendor.pk,
            "your_handle": record.customer_handle,
            "agreement": "standard",
            "version": 1,
            "title": "Standard privacy",
            "clauses": record.clauses,
            "reached_at": record.reached_at.isoformat(),
            "digest": record.digest,
        }
    ]
    archive = zipfile.ZipFile(io.BytesIO(export_csv(customer=customer)))
    assert record.digest in archive.read("agreements.csv").decode()


def test_erasing_her_account_removes_her_records_and_scrubs_the_vendors_events(vendor_client, customer, intent):
    propose(vendor_client, intent)
    answer = AgreementAnswer.objects.get()
    respond_to_proposal(customer=customer, intent_id=intent.pk, vendor_id=vendor_client.vendor.pk, accept=True)
    assert AgreementRecord.objects.exists()
    erase_customer(customer=customer)
    assert not AgreementRecord.objects.exists() and not AgreementAnswer.objects.exists()
    event = VendorEvent.objects.get(kind="agreement.accepted")
    assert event.payload["data"] == {"id": str(answer.pk), "erased": True}
    assert Agreement.objects.filter(code="strict").exists()  # the roster stays
