"""Principle 3, no lock-in: a customer takes everything about her with her, or erases it.

``export_customer_data`` gathers everything the broker holds about her (her account, requests,
where they went, the offers she received and their history, her messages, deals, ratings, the
identity she shared, blocks, her notes, notifications and their settings, the agreements she
reached with vendors and their digests) as one JSON-ready dict with a ``schema_version`` (the
layout: docs/export.md); ``export_csv`` writes every section of it as a CSV file in a zip. A test
finds every table that holds her data and fails if the export misses one
(tests/intents/test_export_complete.py). ``erase_customer`` deletes her account and everything
hanging off it, and scrubs the copies of her requests in vendors' event logs, so nothing that
identifies her is kept.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import TYPE_CHECKING, Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from broker.core.audit import record_audit
from broker.core.outbox import forget_events
from intents.notifications import email_choices
from intents.selectors import customer_intents, customer_notifications, intent_ids_of, notification_preferences_of
from moderation.selectors import customer_reports
from moderation.services import forget_customer_reports
from reputation.models import Rating
from reputation.selectors import customer_deal_ratings, customer_own_reputation
from reputation.services import refresh_scores
from vendors.deal import behaviour_changed
from vendors.events import scrub_events
from vendors.relationships import blocks_of, identities_shared_by, notes_of, pseudonyms_of
from vendors.selectors import (
    agreement_answer_ids,
    audience_named_by,
    bids_received,
    customer_agreement_answers,
    customer_agreement_records,
    customer_bid_photos,
    customer_bid_revisions,
    customer_counters,
    customer_deal_outcomes,
    customer_deliveries,
    customer_messages,
    vendors_reached,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# The layout of the export (docs/export.md). Adding a section or a field keeps the version;
# renaming or removing one, or changing what a value means, bumps it.
SCHEMA_VERSION = 2
# The scalars at the top of the JSON; the CSV zip holds them in ``export.csv``.
ABOUT = ("schema_version", "exported_at")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_customer_data(*, customer: User) -> dict[str, Any]:
    """Everything about the customer, read through each app's selectors, as one JSON-ready dict:
    ``schema_version`` and ``exported_at``, ``account``, then one list per section (the layout
    is documented in docs/export.md, and ``export_csv`` writes each section as a CSV file)."""
    intents = list(customer_intents(customer=customer).order_by("created_at"))
    # A sealed request's offers stay sealed until its deadline, from her too (the export included).
    sealed = {i.pk for i in intents if i.is_sealed()}
    bids = [bid for bid in bids_received(customer=customer) if bid.intent_id not in sealed]
    messages = customer_messages(customer=customer)
    ratings = customer_deal_ratings(customer=customer)
    email_choices_now = email_choices(customer=customer)
    chosen = {p.kind for p in notification_preferences_of(customer=customer)}
    named = audience_named_by(customer=customer)
    return {
        "schema_version": SCHEMA_VERSION,
        "exported_at": timezone.now().isoformat(),
        "account": {
            "username": customer.username,
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "date_joined": _iso(customer.date_joined),
            "last_login": _iso(customer.last_login),
            "email_addresses": [
                {"email": a.email, "verified": a.verified, "primary": a.primary}
                for a in EmailAddress.objects.filter(user=customer).order_by("pk")
            ],
        },
        "requests": [
            {
                "id": str(i.pk),
                "title": i.title,
                "details": i.details,
                "language": i.language,
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
                "removal_reason": i.removal_reason,
                "revision": i.revision,
                "audience": {
                    "max_vendors": i.audience_max,
                    "min_rating": str(i.audience_min_rating) if i.audience_min_rating is not None else None,
                    "include_new_vendors": i.audience_include_new,
                    **named.get(i.pk, {"invited": [], "excluded": []}),
                },
                "created_at": _iso(i.created_at),
                "updated_at": _iso(i.updated_at),
                "expires_at": _iso(i.expires_at),
                "closed_at": _iso(i.closed_at),
            }
            for i in intents
        ],
        "deliveries": [
            {
                "request": str(d.intent_id),
                "vendor": d.vendor.name,
                "received_at": _iso(d.created_at),
                "opened_at": _iso(d.seen_at),
                "passed_at": _iso(d.passed_at),
                "pass_reason": d.pass_reason,
                "withdrawn_at": _iso(d.withdrawn_at),
            }
            for d in customer_deliveries(customer=customer)
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
                "updated_at": _iso(b.updated_at),
                "decided_at": _iso(b.decided_at),
            }
            for b in bids
        ],
        "bid_revisions": [
            {
                "bid": str(r.bid_id),
                "amount": str(r.amount),
                "currency": r.currency,
                "message": r.message,
                "offered_attributes": r.offered_attributes,
                "valid_until": _iso(r.valid_until),
                "replaced_at": _iso(r.created_at),
            }
            for r in customer_bid_revisions(customer=customer)
            if r.bid.intent_id not in sealed
        ],
        "bid_photos": [
            {
                "bid": str(p.bid_id),
                "position": p.position,
                "file": p.image.name,
                "width": p.width,
                "height": p.height,
                "content_type": p.content_type,
            }
            for p in customer_bid_photos(customer=customer)
            if p.bid.intent_id not in sealed
        ],
        "counters": [
            {
                "bid": str(c.bid_id),
                "target_amount": str(c.target_amount) if c.target_amount is not None else None,
                "target_attributes": c.target_attributes,
                "note": c.note,
                "status": c.status,
                "created_at": _iso(c.created_at),
                "answered_at": _iso(c.answered_at),
            }
            for c in customer_counters(customer=customer)
        ],
        "deal_outcomes": [
            {"bid": str(o.bid_id), "side": o.side, "outcome": o.outcome, "reason": o.reason, "at": _iso(o.created_at)}
            for o in customer_deal_outcomes(customer=customer)
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
                "created_at": _iso(r.created_at),
            }
            for r in ratings
            if r.by == Rating.Side.CUSTOMER or (r.revealed_at and not r.hidden_by_moderator)
        ],
        "identity_shared_with": [
            {
                "vendor": r.vendor.name,
                "request": str(r.intent_id),
                "name": r.name,
                "email": r.email,
                "phone": r.phone,
                "at": _iso(r.revealed_at),
            }
            for r in identities_shared_by(customer=customer)
        ],
        "pseudonyms": [
            {"vendor": p.vendor.name, "handle": p.handle, "since": _iso(p.created_at)}
            for p in pseudonyms_of(customer=customer)
        ],
        "blocks": [
            {"vendor": b.vendor.name, "blocked_by": b.blocked_by, "at": _iso(b.created_at)}
            for b in blocks_of(customer=customer)
        ],
        "vendor_notes": [
            {"vendor": n.vendor.name, "note": n.body, "updated_at": _iso(n.updated_at)}
            for n in notes_of(customer=customer)
        ],
        "notifications": [
            {
                "kind": n.kind,
                "request": str(n.intent_id) if n.intent_id else None,
                "text": n.text,
                "link": n.link,
                "created_at": _iso(n.created_at),
                "read_at": _iso(n.read_at),
            }
            for n in customer_notifications(customer=customer).order_by("created_at", "id")
        ],
        "reports": [
            {
                "id": str(r.pk),
                "made_by": "you" if r.reported_by == "customer" else "the vendor",
                "subject": r.subject,
                "vendor": r.vendor.name,
                "request": str(r.intent_id) if r.intent_id else None,
                "reason": r.reason,
                "text": r.text,
                "status": r.status,
                "outcome": r.outcome,
                "created_at": _iso(r.created_at),
                "respond_by": _iso(r.due_at),
                "closed_at": _iso(r.closed_at),
            }
            for r in customer_reports(customer=customer).order_by("created_at")
        ],
        "reputation": customer_own_reputation(customer.pk),
        "terms_answers": [
            {
                "request": str(a.intent_id),
                "vendor": a.vendor.name,
                "answer": a.answer,
                "by_bidding": a.implicit,
                "proposed": f"{a.proposed.code} v{a.proposed.version}" if a.proposed else None,
                "your_response": a.response or None,
                "answered_at": _iso(a.answered_at),
                "responded_at": _iso(a.responded_at),
            }
            for a in customer_agreement_answers(customer=customer)
        ],
        "agreements": _agreements(customer),
        "notification_preferences": [
            {"kind": kind, "email": email, "chosen": kind in chosen} for kind, email in email_choices_now.items()
        ],
    }


def _cell(value: Any) -> str | int | None:
    """A value as a CSV cell: text and numbers as they are, anything nested (a list, an
    object) or a boolean as its JSON text, so the CSV says exactly what the JSON says."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def export_sections(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The export as tables, one per section: ``export`` for the top-level scalars, an object
    section (``account``) as one row, a list section as its rows. Generic over the sections, so
    a section added to ``export_customer_data`` is in the CSV zip as well."""
    tables: dict[str, list[dict[str, Any]]] = {"export": [{key: data[key] for key in ABOUT if key in data}]}
    for section, value in data.items():
        if section in ABOUT:
            continue
        if isinstance(value, dict):
            tables[section] = [value]
        elif isinstance(value, list):
            tables[section] = [row if isinstance(row, dict) else {"value": row} for row in value]
        else:
            tables["export"][0][section] = value
    return tables


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
    """The export as a zip of CSV files, one per section (``<section>.csv``), holding all the
    JSON holds; nested values are JSON text."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for section, rows in export_sections(export_customer_data(customer=customer)).items():
            text = io.StringIO()
            columns = list(dict.fromkeys(column for row in rows for column in row))
            writer = csv.DictWriter(text, fieldnames=columns)
            if columns:
                writer.writeheader()
            for row in rows:
                writer.writerow({column: _cell(value) for column, value in row.items()})
            archive.writestr(f"{section}.csv", text.getvalue())
    return buffer.getvalue()


@transaction.atomic
def erase_customer(*, customer: User) -> None:
    """Delete the customer and everything that identifies her.

    Her requests, their deliveries, bids, messages, ratings, pseudonyms and blocks go with her
    account (each app's foreign keys cascade). The copies of her requests, bids and messages in
    vendors' event logs are replaced by a tombstone that keeps only the subject's id, so a
    vendor's log still reads in order; the outbox forgets her requests. The vendors she rated
    have their stored scores recomputed without her ratings, and the vendors her requests reached
    their behaviour figures (after commit). Her reports keep their outcome for
    the record, without her words or any link to her.
    """
    intent_ids = intent_ids_of(customer=customer)
    bid_ids = [str(pk) for pk in bids_received(customer=customer).values_list("pk", flat=True)]
    message_ids = [str(pk) for pk in customer_messages(customer=customer).values_list("pk", flat=True)]
    rated_vendor_ids = set(
        bids_received(customer=customer).filter(ratings__isnull=False).values_list("vendor_id", flat=True)
    )
    answer_ids = agreement_answer_ids(customer=customer)
    # Her requests' deliveries, offers and deals leave the figures of every vendor they reached.
    behaviour_changed(vendor_ids=vendors_reached(intent_ids=intent_ids))
    scrub_events(subjects=[*intent_ids, *bid_ids, *message_ids, *answer_ids])
    forget_events(intent_ids=intent_ids)
    forget_customer_reports(customer=customer)
    record_audit(actor=None, action="customer.erased", target=customer, requests=len(intent_ids))
    customer.delete()
    refresh_scores(vendor_ids=rated_vendor_ids)
