"""What a vendor is sent: the event envelope and one builder per vendor-side object, used by the
API and the webhooks alike, so the two can never disagree. Nothing here may carry the customer's
account data. (The vendor's view of an intent needs reputation, a floor above: see
``broker.pipeline.vendor_view``.)"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from intents.models import Agreement, Intent
from vendors.models import AgreementAnswer, AgreementRecord, Bid, BidCounter, BidPhoto, Message


def envelope(kind: str, timestamp: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The body of every event and webhook: ``{"type", "timestamp", "data"}``."""
    return {"type": kind, "timestamp": timestamp.isoformat(), "data": data}


def envelope_json(kind: str, timestamp: datetime, data_json: str) -> str:
    """``envelope`` as JSON text around data that is JSON text already (the fan-out encodes an
    intent once for thousands of vendors)."""
    head = json.dumps(envelope(kind, timestamp, {}))
    assert head.endswith('"data": {}}')  # the envelope's last key, so the data can go in its place
    return f"{head[: -len('{}}')]}{data_json}}}"


def money(amount: Decimal | None, currency: str) -> dict[str, str] | None:
    if amount is None:
        return None
    return {"amount": str(amount), "currency": currency}


def bid_for_vendor(bid: Bid) -> dict[str, Any]:
    return {
        "id": str(bid.pk),
        "intent": str(bid.intent_id),
        "price": money(bid.amount, bid.currency),
        "message": bid.message,
        "offered_attributes": bid.offered_attributes,
        "valid_until": bid.valid_until.isoformat() if bid.valid_until else None,
        "terms_accepted": bid.terms_accepted,
        "status": bid.status,
        "decline_reason": bid.decline_reason or None,
        "created_at": bid.created_at.isoformat(),
        "updated_at": bid.updated_at.isoformat(),
        "photos": [photo_for_vendor(photo) for photo in bid.photos.all()],
    }


def photo_for_vendor(photo: BidPhoto) -> dict[str, Any]:
    """A photo of a bid. Its URL is the stored file's (absolute on this site when the files are
    served here): a random name that says nothing of the bid, the vendor or the customer."""
    url = photo.image.url
    if url.startswith("/"):
        url = f"{settings.SITE_URL}{url}"
    return {
        "id": str(photo.pk),
        "url": url,
        "width": photo.width,
        "height": photo.height,
        "content_type": photo.content_type,
    }


def counter_for_vendor(counter: BidCounter) -> dict[str, Any]:
    """Her request for a better offer, as the vendor sees it."""
    return {
        "id": counter.pk,
        "target_price": money(counter.target_amount, counter.bid.currency),
        "target_attributes": counter.target_attributes,
        "note": counter.note,
        "status": counter.status,
        "created_at": counter.created_at.isoformat(),
        "answered_at": counter.answered_at.isoformat() if counter.answered_at else None,
    }


def message_for_vendor(message: Message, *, handle: str) -> dict[str, Any]:
    """A message of a thread as the vendor sees it: the customer by this vendor's handle."""
    return {
        "id": message.pk,
        "intent": str(message.intent_id),
        "sender": message.sender,
        "customer": handle,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }


def agreement_for_vendor(agreement: Agreement) -> dict[str, Any]:
    """An agreement of the roster: what a request proffers and a vendor may propose."""
    return agreement_view(agreement.code, agreement.version, agreement.title, agreement.summary, agreement.clauses)


def agreement_view(code: str, version: int, title: str, summary: str, clauses: Any) -> dict[str, Any]:
    """``agreement_for_vendor`` from the agreement's columns (the inbox's statement reads them
    as plain values, without an Agreement object)."""
    return {"code": code, "version": version, "title": title, "summary": summary, "clauses": clauses}


def record_for_vendor(record: AgreementRecord) -> dict[str, Any]:
    """An agreement reached: the customer by this vendor's handle for her, never her account."""
    return {
        "id": record.pk,
        "intent": str(record.intent_id),
        "customer": record.customer_handle,
        "agreement": {**agreement_for_vendor(record.agreement), "clauses": record.clauses},
        "reached_at": record.reached_at.isoformat(),
        "digest": record.digest,
    }


def answer_for_vendor(
    answer: AgreementAnswer, *, intent: Intent, handle: str, record: AgreementRecord | None
) -> dict[str, Any]:
    """The vendor's answer to her terms on one request, her response to its proposal, and the
    agreement reached, if any."""
    return {
        "intent": str(intent.pk),
        "customer": handle,
        "answer": answer.answer,
        "implicit": answer.implicit,
        "terms": agreement_for_vendor(intent.agreement),
        "proposed": agreement_for_vendor(answer.proposed) if answer.proposed is not None else None,
        "response": answer.response or None,
        "answered_at": answer.answered_at.isoformat(),
        "responded_at": answer.responded_at.isoformat() if answer.responded_at else None,
        "record": record_for_vendor(record) if record is not None else None,
    }
