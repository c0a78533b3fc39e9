"""Principle 3, no lock-in: a customer takes everything about her with her, or erases it.

``export_customer_data`` gathers her requests, the bids she received, her messages, the terms
each vendor agreed to, the agreements reached (with their digests), and the ratings of her
deals, as one JSON-ready dict; ``export_csv`` flattens it into CSV files. ``erase_customer``
deletes her account and everything hanging off it, and scrubs the copies of her requests in
vendors' event logs, so nothing that identifies her is kept.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from broker.core.audit import record_audit
from broker.core.outbox import forget_events
from intents.selectors import customer_intents, intent_ids_of
from reputation.models import Rating
from reputation.selectors import customer_deal_ratings
from vendors.events import scrub_events
from vendors.relationships import identities_shared_by, vendors_blocked_by
from vendors.selectors import agreement_answer_ids, bids_received, customer_agreement_records, customer_messages

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_customer_data(*, customer: User) -> dict[str, Any]:
    """Everything about the customer, read through each app's selectors, as one JSON-ready dict."""
    intents = list(customer_intents(customer=customer).order_by("created_at"))
    # A sealed request's offers stay sealed until its deadline, from her too (the export included).
    sealed = {str(i.pk) for i in intents if i.is_sealed()}
    bids = [bid for bid in bids_received(customer=customer) if str(bid.intent_id) not in sealed]
    messages = customer_messages(customer=customer)
    ratings = customer_deal_ratings(customer=customer)
    return {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "email": customer.email,
            "date_joined": _iso(customer.date_joined),
            "last_login": _iso(customer.last_login),
        },
        "requests": [
            {
                "id": str(i.pk),
                "title": i.title,
                "details": i.details,
                "category": i.category.slug,
                "region": i.region.code,
                "attributes": i.attributes,
                "budget_max": str(i.budget_max) if i.budget_max is not None else None,
                "currency": i.currency,
                "terms": i.terms,
                "status": i.status,
                "format": i.format,
                "sealed_until": _iso(i.sealed_until),
                "close_reason": i.close_reason,
                "revision": i.revision,
                "created_at": _iso(i.created_at),
                "expires_at": _iso(i.expires_at),
                "closed_at": _iso(i.closed_at),
            }
            for i in intents
        ],
        "bids_received": [
            {
                "id": str(b.pk),
                "request": str(b.intent_id),
                "vendor": b.vendor.name,
                "amount": str(b.amount),
                "currency": b.currency,
                "message": b.message,
                "offered_attributes": b.offered_attributes,
                "terms_agreed": b.terms_accepted,
                "status": b.status,
                "decline_reason": b.decline_reason,
                "valid_until": _iso(b.valid_until),
                "created_at": _iso(b.created_at),
                "decided_at": _iso(b.decided_at),
            }
            for b in bids
        ],
        "messages": [
            {
                "request": str(m.intent_id),
                "vendor": m.vendor.name,
                "from": m.sender,
                "body": m.body,
                "created_at": _iso(m.created_at),
            }
            for m in messages
        ],
        "ratings": [
            {
                "bid": str(r.bid_id),
                "vendor": r.bid.vendor.name,
                "by": r.by,
                "score": r.score,
                "comment": r.comment,
                "revealed": r.revealed_at is not None,
            }
            for r in ratings
            if r.by == Rating.Side.CUSTOMER or (r.revealed_at and not r.hidden_by_moderator)
        ],
        "identity_shared_with": [
            {"vendor": r.vendor.name, "name": r.name, "email": r.email, "phone": r.phone, "at": _iso(r.revealed_at)}
            for r in identities_shared_by(customer=customer)
        ],
        "blocked_vendors": vendors_blocked_by(customer=customer),
        "agreements": _agreements(customer),
    }


def _agreements(customer: User) -> list[dict[str, Any]]:
    """The agreements she reached with vendors: the same facts and digest the vendor holds
    (``vendors.agreements``), with the vendor's name."""
    return [
        {
            "request": str(r.intent_id),
            "vendor": r.vendor.name,
            "vendor_id": r.vendor_id,
            "your_handle": r.customer_handle,
            "agreement": r.agreement.code,
            "version": r.agreement.version,
            "title": r.agreement.title,
            "clauses": r.clauses,
            "reached_at": _iso(r.reached_at),
            "digest": r.digest,
        }
        for r in customer_agreement_records(customer=customer)
    ]


def export_csv(*, customer: User) -> bytes:
    """The export as a zip of CSV files, one per section."""
    data = export_customer_data(customer=customer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for section in ("requests", "bids_received", "messages", "ratings", "agreements"):
            rows = data[section]
            text = io.StringIO()
            if rows:
                writer = csv.DictWriter(text, fieldnames=list(rows[0]))
                writer.writeheader()
                for row in rows:
                    writer.writerow({k: v if isinstance(v, str | int | None) else str(v) for k, v in row.items()})
            archive.writestr(f"{section}.csv", text.getvalue())
    return buffer.getvalue()


@transaction.atomic
def erase_customer(*, customer: User) -> None:
    """Delete the customer and everything that identifies her.

    Her requests, their deliveries, bids, messages, ratings, pseudonyms and blocks go with her
    account (each app's foreign keys cascade). The copies of her requests, bids and messages in
    vendors' event logs are replaced by a tombstone that keeps only the subject's id, so a
    vendor's log still reads in order; the outbox forgets her requests.
    """
    intent_ids = intent_ids_of(customer=customer)
    bid_ids = [str(pk) for pk in bids_received(customer=customer).values_list("pk", flat=True)]
    message_ids = [str(pk) for pk in customer_messages(customer=customer).values_list("pk", flat=True)]
    answer_ids = agreement_answer_ids(customer=customer)
    scrub_events(subjects=[*intent_ids, *bid_ids, *message_ids, *answer_ids])
    forget_events(intent_ids=intent_ids)
    record_audit(actor=None, action="customer.erased", target=customer, requests=len(intent_ids))
    customer.delete()
