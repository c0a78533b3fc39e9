"""Writes on the customer side: publishing a request and recording its status. Which status may
follow which is the deal's rule (``vendors.deal``), which calls ``close_intent``."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from broker.core.errors import prefixed_errors
from broker.core.money import clean_currency
from broker.core.outbox import record_event
from intents.attributes import clean_attributes
from intents.models import Category, Intent, Region
from intents.taxonomy import category_schema
from intents.terms import clean_terms

if TYPE_CHECKING:
    from django.contrib.auth.models import User

INTENT_PUBLISHED = "intent.published"
INTENT_CLOSED = "intent.closed"
MAX_LIFETIME = timedelta(days=180)


def clean_intent(
    *,
    title: str,
    category: Category | None,
    region: Region | None,
    attributes: Any,
    budget_max: Decimal | None,
    currency: str,
    terms: Any,
    expires_at: datetime | None,
) -> dict[str, Any]:
    """Validate what a customer submits; one ``ValidationError`` keyed by field for it all."""
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    if not (title or "").strip():
        errors["title"] = "Say in a few words what you want."
    if category is None:
        errors["category"] = "Choose a category."
    else:
        try:
            cleaned["attributes"] = clean_attributes(category_schema(category), attributes)
        except ValidationError as error:
            errors.update(prefixed_errors("attributes", error))
    if region is None:
        errors["region"] = "Choose a region."
    if budget_max is not None:
        if budget_max < 0:
            errors["budget_max"] = "The budget cannot be negative."
        try:
            cleaned["currency"] = clean_currency(currency)
        except ValidationError as error:
            errors.update(error.message_dict)
    else:
        cleaned["currency"] = ""
    try:
        cleaned["terms"] = clean_terms(terms)
    except ValidationError as error:
        errors.update(error.message_dict)
    now = timezone.now()
    if expires_at is None:
        cleaned["expires_at"] = now + timedelta(days=14)
    elif expires_at <= now:
        errors["expires_at"] = "Choose a time in the future."
    elif expires_at > now + MAX_LIFETIME:
        errors["expires_at"] = "A request can stay open for at most 180 days."
    else:
        cleaned["expires_at"] = expires_at
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def publish_intent(
    *,
    customer: User,
    title: str,
    category: Category | None,
    region: Region | None,
    details: str = "",
    attributes: Any = None,
    budget_max: Decimal | None = None,
    currency: str = "",
    terms: Any = None,
    expires_at: datetime | None = None,
    language: str = "en",
) -> Intent:
    """Save the intent and its ``intent.published`` outbox event in one transaction; the
    pipeline casts it to matching vendors after commit."""
    cleaned = clean_intent(
        title=title,
        category=category,
        region=region,
        attributes=attributes,
        budget_max=budget_max,
        currency=currency,
        terms=terms,
        expires_at=expires_at,
    )
    assert category is not None and region is not None  # clean_intent refuses a missing one
    intent = Intent.objects.create(
        customer=customer,
        title=title.strip(),
        details=(details or "").strip(),
        category=category,
        region=region,
        budget_max=budget_max,
        language=language or "en",
        **cleaned,
    )
    record_event(INTENT_PUBLISHED, {"intent_id": str(intent.pk)})
    return intent


def close_intent(intent: Intent, *, status: str, reason: str = "") -> Intent:
    """Write a closed request's new status, and record ``intent.closed`` in the outbox when it
    was open (the pipeline then tells every vendor that has it). The caller holds the row lock
    and has checked the transition (``vendors.deal``, where the deal's rules live)."""
    was_open = intent.is_open
    intent.status = status
    if reason:
        intent.removal_reason = reason
    if was_open:
        intent.closed_at = timezone.now()
    intent.save(update_fields=["status", "closed_at", "removal_reason", "updated_at"])
    if was_open and status != Intent.Status.ACCEPTED:
        record_event(INTENT_CLOSED, {"intent_id": str(intent.pk)})
    return intent
