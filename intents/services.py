"""Writes on the customer side: publishing a request and recording its status. Which status may
follow which is the deal's rule (``vendors.deal``), which calls ``close_intent``."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from broker.core.errors import IntentClosed, NotFound, prefixed_errors
from broker.core.money import clean_currency
from broker.core.outbox import record_event
from intents.attributes import clean_attributes
from intents.models import AUDIENCE_MAX_VENDORS, MAX_DETAILS, MAX_STARS, MIN_STARS, Agreement, Category, Intent, Region
from intents.review import hold_reasons
from intents.taxonomy import remembered_category_schema
from intents.taxonomy_cache import forget, remembered
from intents.terms import legacy_terms

if TYPE_CHECKING:
    from django.contrib.auth.models import User

INTENT_PUBLISHED = "intent.published"
INTENT_CLOSED = "intent.closed"
INTENT_AMENDED = "intent.amended"
MAX_LIFETIME = timedelta(days=180)
MIN_SEALED = timedelta(hours=1)
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,4})?")


def clean_audience(
    *, audience_max: Any, audience_min_rating: Any, audience_include_new: Any, audience_named: Any = False
) -> dict[str, Any]:
    """Her audience controls: the most vendors (1 to 500, or none), the lowest score (1.0 to
    5.0 stars, or none) and whether new vendors may hear her. One ``ValidationError`` keyed by
    field."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {
        "audience_include_new": audience_include_new is not False,
        "audience_named": audience_named is True,
    }
    if audience_max in (None, ""):
        cleaned["audience_max"] = None
    elif isinstance(audience_max, bool) or not isinstance(audience_max, int):
        errors["audience_max"] = "Enter a whole number of vendors."
    elif not 1 <= audience_max <= AUDIENCE_MAX_VENDORS:
        errors["audience_max"] = f"Choose between 1 and {AUDIENCE_MAX_VENDORS} vendors, or leave it empty for no limit."
    else:
        cleaned["audience_max"] = audience_max
    if audience_min_rating in (None, ""):
        cleaned["audience_min_rating"] = None
    else:
        try:
            stars = Decimal(str(audience_min_rating))
        except ArithmeticError:
            stars = None
        if stars is None or not stars.is_finite():
            errors["audience_min_rating"] = "Enter a number of stars such as 4 or 4.5."
        elif not MIN_STARS <= stars <= MAX_STARS or stars != stars.quantize(Decimal("0.1")):
            errors["audience_min_rating"] = "Choose from 1.0 to 5.0 stars, in steps of 0.1."
        else:
            cleaned["audience_min_rating"] = stars
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_intent(
    *,
    title: str,
    category: Category | None,
    region: Region | None,
    attributes: Any,
    budget_max: Decimal | None,
    currency: str,
    agreement: Agreement | None,
    expires_at: datetime | None,
    details: str = "",
    language: str = "en",
    format: str = Intent.Format.OPEN,
    sealed_until: datetime | None = None,
    amending: bool = False,
) -> dict[str, Any]:
    """Validate what a customer submits; one ``ValidationError`` keyed by field for it all. An
    amended request keeps its agreement even if the roster no longer offers it."""
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    if not (title or "").strip():
        errors["title"] = "Say in a few words what you want."
    if len((details or "").strip()) > MAX_DETAILS:
        errors["details"] = f"Keep the details to {MAX_DETAILS:,} characters at most."
    if not LANGUAGE_CODE.fullmatch(language or "en"):
        errors["language"] = "Choose a language such as en or pl."
    if category is None:
        errors["category"] = "Choose a category."
    else:
        try:
            cleaned["attributes"] = clean_attributes(remembered_category_schema(category), attributes)
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
    if agreement is None:
        agreement = default_agreement()
    if agreement is None or not (agreement.offered or amending):
        errors["agreement"] = "Choose one of the agreements listed."
    else:
        cleaned["agreement"] = agreement
        cleaned["terms"] = legacy_terms(agreement.clauses)
    now = timezone.now()
    if expires_at is None:
        cleaned["expires_at"] = now + timedelta(days=14)
    elif expires_at <= now:
        errors["expires_at"] = "Choose a time in the future."
    elif expires_at > now + MAX_LIFETIME:
        errors["expires_at"] = "A request can stay open for at most 180 days."
    else:
        cleaned["expires_at"] = expires_at
    if format not in Intent.Format.values:
        errors["format"] = "Choose open or sealed offers."
    elif format == Intent.Format.SEALED:
        if sealed_until is None:
            errors["sealed_until"] = "Choose when the sealed offers are opened."
        elif sealed_until <= now + MIN_SEALED:
            errors["sealed_until"] = "Give vendors at least an hour: choose a later time."
        elif sealed_until > cleaned.get("expires_at", now + MAX_LIFETIME):
            errors["sealed_until"] = "Open the offers before the request closes."
        else:
            cleaned["sealed_until"] = sealed_until
    cleaned["format"] = format
    cleaned.setdefault("sealed_until", None)
    if errors:
        raise ValidationError(errors)
    return cleaned


def default_agreement() -> Agreement | None:
    """``Agreement.objects.default()``, remembered by the process once that version has been used
    (``intents.taxonomy_cache``: forgotten when an agreement is saved or deleted here, and after
    ``TAXONOMY_CACHE_SECONDS`` in every other process): every new request without one of her own
    reads it. A used version's content can no longer change (``Agreement.save``); whether it is
    still offered, or is still the latest version, may be seen that much later. A version not yet
    used is read again each time, until a request has marked it used. Each caller gets its own
    copy, as ``mark_agreement_used`` writes on it."""
    key = ("default_agreement", settings.INTENTCAST.get("DEFAULT_AGREEMENT"))
    agreement = remembered(key, Agreement.objects.default)
    if agreement is None or agreement.first_used_at is None:
        forget(key)
        return agreement
    return copy.copy(agreement)


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
    agreement: Agreement | None = None,
    expires_at: datetime | None = None,
    language: str = "en",
    format: str = Intent.Format.OPEN,
    sealed_until: datetime | None = None,
    audience_max: int | None = None,
    audience_min_rating: Decimal | None = None,
    audience_include_new: bool = True,
    audience_named: bool = False,
) -> Intent:
    """Save the intent and its ``intent.published`` outbox event in one transaction; the
    pipeline casts it to matching vendors after commit. ``format`` is open (vendors see how many
    offers there are and the best price) or sealed (nobody sees any until ``sealed_until``).
    The ``audience_*`` controls narrow who hears it (docs/matching.md); the vendors she invites
    or excludes by name are written in the same transaction by
    ``broker.pipeline.audience.publish_with_audience``. ``agreement`` is the roster agreement she
    proffers (the default one when None); from now on that version is used, so it can no longer
    change. A request that a review rule holds (``intents.review``) is saved ``in review`` with no
    outbox event: nothing is cast until a moderator releases it (``vendors.deal.release_intent``)."""
    errors: dict[str, Any] = {}
    try:
        audience = clean_audience(
            audience_max=audience_max,
            audience_min_rating=audience_min_rating,
            audience_include_new=audience_include_new,
            audience_named=audience_named,
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        cleaned = clean_intent(
            title=title,
            category=category,
            region=region,
            attributes=attributes,
            budget_max=budget_max,
            currency=currency,
            agreement=agreement,
            expires_at=expires_at,
            details=details,
            language=language,
            format=format,
            sealed_until=sealed_until,
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    assert category is not None and region is not None  # clean_intent refuses a missing one
    held = hold_reasons(
        customer=customer,
        title=title,
        details=details or "",
        budget_max=budget_max,
        currency=cleaned.get("currency", ""),
    )
    intent = Intent.objects.create(
        customer=customer,
        title=title.strip(),
        details=(details or "").strip(),
        category=category,
        region=region,
        budget_max=budget_max,
        language=language or "en",
        status=Intent.Status.IN_REVIEW if held else Intent.Status.OPEN,
        held_because="; ".join(held),
        **cleaned,
        **audience,
    )
    mark_agreement_used(agreement=cleaned["agreement"])
    if not held:
        record_event(INTENT_PUBLISHED, {"intent_id": str(intent.pk)})
    return intent


def release_intent(intent: Intent) -> Intent:
    """A held request is released: it opens and is cast as if just published (``intent.published``
    in the outbox). The caller holds the row lock and has checked the transition
    (``vendors.deal.release_intent``)."""
    intent.status = Intent.Status.OPEN
    intent.save(update_fields=["status", "updated_at"])
    record_event(INTENT_PUBLISHED, {"intent_id": str(intent.pk)})
    return intent


def close_intent(intent: Intent, *, status: str, close_reason: str = "", removal_reason: str = "") -> Intent:
    """Write a request's new status (and why it closed), and record ``intent.closed`` in the
    outbox when it closes without a deal (the pipeline then tells every vendor that has it). The
    caller holds the row lock and has checked the transition (``vendors.deal``, where the deal's
    rules live)."""
    was_open = intent.is_open
    was_held = intent.status == Intent.Status.IN_REVIEW  # never cast: no vendor to tell
    intent.status = status
    intent.close_reason = close_reason or intent.close_reason
    intent.removal_reason = removal_reason or intent.removal_reason
    if was_open or was_held:
        intent.closed_at = timezone.now()
    intent.save(update_fields=["status", "closed_at", "close_reason", "removal_reason", "updated_at"])
    if was_open and status != Intent.Status.ACCEPTED:
        record_event(INTENT_CLOSED, {"intent_id": str(intent.pk)})
    return intent


@transaction.atomic
def amend_intent(
    *,
    customer: User,
    intent_id: UUID | str,
    details: str,
    attributes: Any,
    budget_max: Decimal | None,
    audience: dict[str, Any] | None = None,
) -> Intent:
    """She changes an open request's details, attributes or budget, and (``audience``: the
    ``audience_*`` controls of ``publish_intent``) who hears it. The change is recorded with
    a new revision and ``intent.amended`` in the outbox: the pipeline matches it again, tells the
    vendors that still match (``intent.updated``), reaches newly matching ones and withdraws it
    from those that no longer match."""
    intent = Intent.objects.select_for_update().filter(pk=intent_id, customer=customer).first()
    if intent is None:
        raise NotFound("No such request.")
    if not intent.is_open:
        raise IntentClosed(f"This request is {intent.get_status_display().lower()}; it can no longer change.")
    errors: dict[str, Any] = {}
    cleaned_audience: dict[str, Any] = {}
    if audience is not None:
        try:
            cleaned_audience = clean_audience(
                audience_max=audience.get("audience_max"),
                audience_min_rating=audience.get("audience_min_rating"),
                audience_include_new=audience.get("audience_include_new", True),
                audience_named=audience.get("audience_named", False),
            )
        except ValidationError as error:
            errors.update(error.message_dict)
    try:
        cleaned = clean_intent(
            title=intent.title,
            category=intent.category,
            region=intent.region,
            attributes=attributes,
            budget_max=budget_max,
            currency=intent.currency or "",
            agreement=intent.agreement,
            expires_at=intent.expires_at,
            details=details,
            amending=True,
            language=intent.language,  # the format and its deadline do not change
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    for field, value in cleaned_audience.items():
        setattr(intent, field, value)
    intent.details = (details or "").strip()
    intent.attributes = cleaned["attributes"]
    intent.budget_max = budget_max
    intent.currency = cleaned["currency"] or intent.currency
    intent.revision += 1
    intent.save(
        update_fields=["details", "attributes", "budget_max", "currency", "revision", "updated_at", *cleaned_audience]
    )
    record_event(INTENT_AMENDED, {"intent_id": str(intent.pk), "revision": intent.revision})
    return intent


def mark_agreement_used(*, agreement: Agreement) -> None:
    """From now on this version of the agreement is cited by a request or an agreement reached:
    it can no longer change or be deleted (``Agreement.save``, the admin)."""
    if agreement.first_used_at is None:
        Agreement.objects.filter(pk=agreement.pk, first_used_at__isnull=True).update(first_used_at=timezone.now())
        agreement.first_used_at = Agreement.objects.values_list("first_used_at", flat=True).get(pk=agreement.pk)
