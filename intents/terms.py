"""The customer's terms, after IEEE 7012 ("MyTerms"): she proffers one standard agreement from a
roster (``intents.models.Agreement``) with each request, and vendors answer it (``vendors.agreements``).

An agreement's clauses are machine-readable, from one small vocabulary (``CLAUSES``): each clause
is a flag (``true``) or, for ``delete_after_days``, a number of days. ``legacy_terms`` turns them
into the three-flag ``terms`` object the API has always carried, so older clients keep reading it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from intents.models import Agreement

MAX_RETENTION_DAYS = 3650

# The vocabulary of clauses: name -> what it means, for people ("N" is the number of days).
CLAUSES: dict[str, str] = {
    "purpose_limited": "Use what you learn about me only for this request.",
    "no_marketing": "No marketing after this request.",
    "contact_through_broker_only": "Contact me only through intentcast, never directly.",
    "no_third_party_sharing": "Do not share anything about me with third parties.",
    "delete_after_days": "Delete what you hold about me N days after the deal.",
}
NUMERIC_CLAUSES = frozenset({"delete_after_days"})

# The roster every database starts with (the data migration seeds the same; ``ensure_roster``
# puts it back in a database that was emptied, as tests that flush tables do).
STANDARD_ROSTER: list[dict[str, Any]] = [
    {
        "code": "standard",
        "version": 1,
        "title": "Standard privacy",
        "summary": "Vendors use what they learn only for this request, contact you only through intentcast, "
        "send no marketing, and delete what they hold about you 90 days after the deal.",
        "clauses": {
            "purpose_limited": True,
            "no_marketing": True,
            "contact_through_broker_only": True,
            "delete_after_days": 90,
        },
    },
    {
        "code": "strict",
        "version": 1,
        "title": "Strict privacy",
        "summary": "Everything in Standard privacy, no sharing with anyone else, and deletion 30 days after the deal.",
        "clauses": {
            "purpose_limited": True,
            "no_marketing": True,
            "contact_through_broker_only": True,
            "no_third_party_sharing": True,
            "delete_after_days": 30,
        },
    },
    {
        "code": "direct-contact",
        "version": 1,
        "title": "Direct contact after the deal",
        "summary": "The vendor you deal with may contact you directly and keep your details for a year; "
        "no marketing and no sharing with anyone else.",
        "clauses": {
            "purpose_limited": True,
            "no_marketing": True,
            "no_third_party_sharing": True,
            "delete_after_days": 365,
        },
    },
    {
        "code": "offers-welcome",
        "version": 1,
        "title": "Offers welcome",
        "summary": "Vendors contact you through intentcast and may send you offers later; "
        "they keep your details for a year and share them with no one else.",
        "clauses": {"contact_through_broker_only": True, "no_third_party_sharing": True, "delete_after_days": 365},
    },
]
DEFAULT_AGREEMENT_CODE = "standard"


def clean_clauses(data: Any) -> dict[str, Any]:
    """Validate an agreement's clauses against the vocabulary; a flag set to false is dropped
    (an agreement lists what it promises)."""
    if not isinstance(data, dict):
        raise ValidationError({"clauses": 'Clauses must be an object, e.g. {"no_marketing": true}.'})
    unknown = sorted(set(data) - set(CLAUSES))
    if unknown:
        raise ValidationError(
            {"clauses": f"Unknown clauses: {', '.join(unknown)}. Known: {', '.join(sorted(CLAUSES))}."}
        )
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if name in NUMERIC_CLAUSES:
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RETENTION_DAYS:
                raise ValidationError(
                    {"clauses": f"{name} must be a whole number of days from 1 to {MAX_RETENTION_DAYS}."}
                )
            cleaned[name] = value
        elif not isinstance(value, bool):
            raise ValidationError({"clauses": f"{name} must be true or false."})
        elif value:
            cleaned[name] = True
    if not cleaned:
        raise ValidationError({"clauses": "An agreement needs at least one clause."})
    return dict(sorted(cleaned.items()))


def describe_clauses(clauses: Mapping[str, Any]) -> list[str]:
    """Each clause in plain words, in the vocabulary's order."""
    lines = []
    for name, text in CLAUSES.items():
        value = clauses.get(name)
        if name in NUMERIC_CLAUSES and value:
            lines.append(text.replace("N days", f"{value} days"))
        elif value is True:
            lines.append(text)
    return lines


def describe_terms(agreement: Agreement) -> list[str]:
    """Her terms for people: the proffered agreement's clauses in plain words."""
    return describe_clauses(agreement.clauses)


def legacy_terms(clauses: Mapping[str, Any]) -> dict[str, Any]:
    """The three-flag ``terms`` object of API 1.0/1.1, derived from an agreement's clauses: what
    a request carried as ``terms`` before agreements, and what a bid records it accepted."""
    return {
        "contact_through_broker_only": bool(clauses.get("contact_through_broker_only")),
        "no_marketing": bool(clauses.get("no_marketing")),
        "delete_data_after_days": clauses.get("delete_after_days") or None,
    }
