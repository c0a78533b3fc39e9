"""The customer's terms: a small standard set every request carries and every bid accepts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

RETENTION_CHOICES = (30, 90, 365)

DEFAULT_TERMS: dict[str, Any] = {
    "contact_through_broker_only": True,
    "no_marketing": True,
    "delete_data_after_days": 90,
}

DESCRIPTIONS = {
    "contact_through_broker_only": "Contact me only through intentcast, never directly.",
    "no_marketing": "No marketing after this request.",
    "delete_data_after_days": "Delete what you hold about me this many days after the deal.",
}


def clean_terms(data: Any) -> dict[str, Any]:
    """Validate terms, filling what is missing from the defaults."""
    if data in (None, ""):
        return dict(DEFAULT_TERMS)
    if not isinstance(data, dict):
        raise ValidationError({"terms": "Terms must be an object."})
    unknown = set(data) - set(DEFAULT_TERMS)
    if unknown:
        raise ValidationError({"terms": f"Unknown terms: {', '.join(sorted(unknown))}."})
    terms = {**DEFAULT_TERMS, **data}
    for flag in ("contact_through_broker_only", "no_marketing"):
        if not isinstance(terms[flag], bool):
            raise ValidationError({"terms": f"{flag} must be true or false."})
    days = terms["delete_data_after_days"]
    if days is not None and (isinstance(days, bool) or days not in RETENTION_CHOICES):
        raise ValidationError(
            {"terms": f"delete_data_after_days must be one of {', '.join(map(str, RETENTION_CHOICES))} or null."}
        )
    return terms


def describe_terms(terms: Mapping[str, Any]) -> list[str]:
    lines = []
    if terms.get("contact_through_broker_only"):
        lines.append(DESCRIPTIONS["contact_through_broker_only"])
    if terms.get("no_marketing"):
        lines.append(DESCRIPTIONS["no_marketing"])
    if terms.get("delete_data_after_days"):
        lines.append(f"Delete what you hold about me {terms['delete_data_after_days']} days after the deal.")
    return lines
