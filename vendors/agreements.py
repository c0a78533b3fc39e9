"""Her terms, answered (after IEEE 7012 "MyTerms"). Each request proffers one agreement of the
roster (``intents.models.Agreement``); each vendor that has the request answers it once:

========================  =================================  ==================================
the vendor's answer       what follows                       can it bid?
========================  =================================  ==================================
accept                    an agreement is reached on hers    yes
propose (one, from the    she accepts it: an agreement is    once she accepted it; after she
roster)                   reached on it (``agreement         refused it, the vendor accepts
                          .accepted``); or she refuses it    hers (explicitly or by bidding)
                          (``agreement.refused``)            or declines
decline                   nothing                            no (``terms_not_agreed``)
(none: it bids)           counts as accepting hers           yes (the API's behaviour before)
========================  =================================  ==================================

An answer is final: a second one is ``already_answered``, except the vendor's accept or decline
after she refused its proposal. Each agreement reached is an ``AgreementRecord`` both sides hold,
with a SHA-256 digest of the RFC 8785 canonical JSON of its facts (``agreement_facts``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import rfc8785
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from broker.core.errors import AlreadyAnswered, IntentClosed, NotFound, TermsNotAgreed
from intents.models import Agreement, Intent
from intents.notifications import terms_proposed
from intents.selectors import lock_intent, roster_agreement
from intents.services import mark_agreement_used
from vendors.events import record_vendor_events
from vendors.models import AgreementAnswer, AgreementRecord, Vendor, VendorEvent
from vendors.payloads import answer_for_vendor
from vendors.relationships import ensure_pseudonyms
from vendors.selectors import BidStanding, is_delivered

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Answer = AgreementAnswer.Answer
Response = AgreementAnswer.Response


def timestamp(moment: datetime) -> str:
    """A time as the digest's facts write it: UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def agreement_facts(record: AgreementRecord) -> dict[str, Any]:
    """What an agreement reached says, as the digest covers it: the agreement (code, version,
    clauses), the two parties (her handle for this vendor, the vendor's id), the request and
    the time."""
    return {
        "agreement": {"code": record.agreement.code, "version": record.agreement.version, "clauses": record.clauses},
        "customer": record.customer_handle,
        "vendor": record.vendor_id,
        "request": str(record.intent_id),
        "reached_at": timestamp(record.reached_at),
    }


def agreement_digest(facts: dict[str, Any]) -> str:
    """SHA-256, in hex, of the RFC 8785 (JSON Canonicalization Scheme) form of ``facts``."""
    return hashlib.sha256(rfc8785.dumps(facts)).hexdigest()


def _reach(intent: Intent, vendor_id: int, agreement: Agreement, *, handle: str | None = None) -> AgreementRecord:
    """Record the agreement reached between her and the vendor on this request (``handle``: her
    handle for the vendor, when the caller has read it)."""
    if handle is None:
        handle = ensure_pseudonyms(customer_id=intent.customer_id, vendor_ids=[vendor_id])[vendor_id]
    mark_agreement_used(agreement=agreement)
    record = AgreementRecord(
        intent=intent,
        vendor_id=vendor_id,
        agreement=agreement,
        customer_handle=handle,
        clauses=agreement.clauses,
        reached_at=timezone.now(),
    )
    record.digest = agreement_digest(agreement_facts(record))
    record.save()
    return record


def _open_delivered_intent(vendor: Vendor, intent_id: UUID | str) -> Intent:
    intent = lock_intent(intent_id=intent_id)
    if intent is None or not is_delivered(intent_id=intent.pk, vendor_id=vendor.pk, current=True):
        raise NotFound("No such request in your inbox.")
    if not intent.is_open or intent.expires_at <= timezone.now():
        raise IntentClosed("This request is closed: its terms can no longer be answered.")
    return intent


def _proposed(code: str | None, version: int | None) -> Agreement:
    if not code or version is None:
        raise ValidationError(
            {"agreement": "Name the agreement you propose: its code and version (GET /api/v1/terms/)."}
        )
    agreement = roster_agreement(code=code, version=version)
    if agreement is None:
        raise ValidationError(
            {"agreement": f"No agreement {code} version {version} on the roster: choose one from GET /api/v1/terms/."}
        )
    return agreement


@transaction.atomic
def answer_terms(
    *, vendor: Vendor, intent_id: UUID | str, answer: str, code: str | None = None, version: int | None = None
) -> AgreementAnswer:
    """The vendor answers the agreement she proffered: ``accept``, ``propose`` (one alternative
    of the roster, by ``code`` and ``version``) or ``decline``."""
    if answer not in Answer.values:
        raise ValidationError({"answer": f"Answer one of: {', '.join(Answer.values)}."})
    proposed = _proposed(code, version) if answer == Answer.PROPOSE else None
    intent = _open_delivered_intent(vendor, intent_id)
    existing = AgreementAnswer.objects.select_for_update().filter(intent=intent, vendor=vendor).first()
    reached = AgreementRecord.objects.filter(intent=intent, vendor=vendor).exists()
    if existing is not None or reached:
        refused = existing is not None and existing.answer == Answer.PROPOSE and existing.response == Response.REFUSED
        if reached or not refused:
            raise AlreadyAnswered("You have already answered her terms on this request.", field="answer")
        if answer == Answer.PROPOSE:
            raise AlreadyAnswered(
                "She refused your proposal; you may propose once. Accept her terms or decline them.", field="answer"
            )
    if proposed is not None and proposed.pk == intent.agreement_id:
        raise ValidationError({"agreement": "That is the agreement she proffers: accept it instead."})
    if existing is None:
        existing = AgreementAnswer(intent=intent, vendor=vendor)
    existing.answer = answer
    existing.implicit = False
    if proposed is not None:
        existing.proposed, existing.response = proposed, Response.PENDING
        mark_agreement_used(agreement=proposed)
    existing.save()
    if answer == Answer.ACCEPT:
        _reach(intent, vendor.pk, intent.agreement)
    elif answer == Answer.PROPOSE:
        assert proposed is not None
        terms_proposed(intent=intent, vendor_name=vendor.name, title=proposed.title)
    return existing


@transaction.atomic
def respond_to_proposal(*, customer: User, intent_id: UUID | str, vendor_id: int, accept: bool) -> AgreementAnswer:
    """She accepts or refuses the alternative agreement a vendor proposed; the vendor is told
    (``agreement.accepted`` with the record reached, or ``agreement.refused``)."""
    intent = lock_intent(intent_id=intent_id, customer=customer)
    if intent is None:
        raise NotFound("No such request.")
    answer = (
        AgreementAnswer.objects.select_for_update()
        .select_related("proposed", "vendor")
        .filter(intent=intent, vendor_id=vendor_id, proposed__isnull=False)
        .first()
    )
    if answer is None:
        raise NotFound("This vendor has proposed no other agreement on this request.")
    if not intent.is_open:
        raise IntentClosed(f"This request is {intent.get_status_display().lower()}: its terms can no longer change.")
    if answer.response != Response.PENDING:
        raise AlreadyAnswered(f"You have already {answer.response} this proposal.")
    answer.response = Response.ACCEPTED if accept else Response.REFUSED
    answer.responded_at = timezone.now()
    answer.save(update_fields=["response", "responded_at", "updated_at"])
    assert answer.proposed is not None
    record = _reach(intent, vendor_id, answer.proposed) if accept else None
    kind = VendorEvent.Kind.AGREEMENT_ACCEPTED if accept else VendorEvent.Kind.AGREEMENT_REFUSED
    handle = ensure_pseudonyms(customer_id=intent.customer_id, vendor_ids=[vendor_id])[vendor_id]
    record_vendor_events(
        kind=kind,
        subject=str(answer.pk),
        data_by_vendor={vendor_id: answer_for_vendor(answer, intent=intent, handle=handle, record=record)},
    )
    return answer


def agree_by_bidding(*, intent: Intent, vendor: Vendor, standing: BidStanding) -> dict[str, Any]:
    """The clauses of the agreement a bid stands on (``vendors.services.place_bid`` calls it
    under the request's lock, with the vendor's ``standing`` read after it): the one reached
    already, or hers when the vendor bids without answering (or after she refused its proposal).
    Refused with ``terms_not_agreed`` when it declined her terms or its proposal awaits her
    answer."""
    if standing.agreed_clauses is not None:
        return standing.agreed_clauses
    if standing.answer == Answer.DECLINE:
        raise TermsNotAgreed("You declined her terms on this request: you cannot bid on it.", field="intent")
    if standing.response == Response.PENDING:
        raise TermsNotAgreed(
            "Your proposed agreement awaits her answer: bid once she accepts it (or accept her terms).", field="intent"
        )
    if standing.answer is None:  # no race: answers, like bids, are written under the request's lock
        AgreementAnswer.objects.create(intent=intent, vendor=vendor, answer=Answer.ACCEPT, implicit=True)
    clauses: dict[str, Any] = _reach(intent, vendor.pk, intent.agreement, handle=standing.handle).clauses
    return clauses
