"""Publishing or amending a request together with who hears it: the request's own controls
(``intents``) and the vendors she names (``vendors.AudienceChoice``) are written in one
transaction, with the outbox event, so the matcher (after commit) never sees one without the
other. See docs/matching.md, "Who hears her"."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction

from intents.models import Intent
from intents.services import amend_intent, publish_intent
from vendors.models import AudienceChoice
from vendors.relationships import clean_audience_choices, set_audience_choices

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _invitations_fit(audience_max: Any, choices: dict[int, str]) -> dict[str, str]:
    invited = sum(1 for kind in choices.values() if kind == AudienceChoice.Kind.INVITE)
    if isinstance(audience_max, int) and not isinstance(audience_max, bool) and 0 < audience_max < invited:
        return {"audience_max": f"You invited {invited} vendors: allow at least {invited}, or invite fewer."}
    return {}


def _named(customer: User, invite: Iterable[int], exclude: Iterable[int], errors: dict[str, Any]) -> dict[int, str]:
    try:
        return clean_audience_choices(customer_id=customer.pk, invite=invite, exclude=exclude)
    except ValidationError as error:
        errors.update(error.message_dict)
        return {}


@transaction.atomic
def publish_with_audience(
    *,
    customer: User,
    invite: Iterable[int] = (),
    exclude: Iterable[int] = (),
    audience_max: int | None = None,
    audience_min_rating: Decimal | None = None,
    audience_include_new: bool = True,
    **request: Any,
) -> Intent:
    """``intents.services.publish_intent`` with her audience: ``invite`` and ``exclude`` are ids
    of vendors of her history. Every message, the request's and the audience's, comes in one
    ``ValidationError``; nothing is saved unless all of it is valid."""
    errors: dict[str, Any] = {}
    choices = _named(customer, invite, exclude, errors)
    errors.update(_invitations_fit(audience_max, choices))
    intent = None
    try:
        intent = publish_intent(
            customer=customer,
            audience_max=audience_max,
            audience_min_rating=audience_min_rating,
            audience_include_new=audience_include_new,
            audience_named=bool(choices),
            **request,
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors or intent is None:
        raise ValidationError(errors)  # rolls back the request and its outbox event with it
    set_audience_choices(intent=intent, choices=choices)
    return intent


@transaction.atomic
def amend_with_audience(
    *,
    customer: User,
    intent_id: UUID | str,
    details: str,
    attributes: Any,
    budget_max: Decimal | None,
    audience: dict[str, Any],
    invite: Iterable[int] = (),
    exclude: Iterable[int] = (),
) -> Intent:
    """``intents.services.amend_intent`` with a new audience (``audience``: the
    ``audience_*`` controls; ``invite`` and ``exclude`` replace the vendors she named). The
    pipeline matches the request again after commit: vendors now left out lose it."""
    errors: dict[str, Any] = {}
    choices = _named(customer, invite, exclude, errors)
    errors.update(_invitations_fit(audience.get("audience_max"), choices))
    intent = None
    try:
        intent = amend_intent(
            customer=customer,
            intent_id=intent_id,
            details=details,
            attributes=attributes,
            budget_max=budget_max,
            audience={**audience, "audience_named": bool(choices)},
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors or intent is None:
        raise ValidationError(errors)
    set_audience_choices(intent=intent, choices=choices)
    return intent
