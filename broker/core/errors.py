"""Domain errors. Services raise them; the API and the website translate them once, at the edge."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class DomainError(Exception):
    """A request the domain refuses. ``code`` is machine-readable, the message is for people."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """No such object among yours."""

    code = "not_found"
    status = 404


class Conflict(DomainError):
    """The request conflicts with the current state of the object."""

    code = "conflict"
    status = 409


class IntentClosed(Conflict):
    """The customer's request is no longer open (withdrawn, expired, or a bid was accepted)."""

    code = "intent_closed"


class BidNotActive(Conflict):
    """The bid is no longer active (withdrawn, declined or accepted)."""

    code = "bid_not_active"


class AlreadyBidding(Conflict):
    """You already have an active bid on this request: change it instead."""

    code = "already_bidding"


class AgreementImmutable(Conflict):
    """This version of the agreement is used by requests or agreements: it cannot change or be
    deleted (add a new version)."""

    code = "agreement_immutable"


class TermsNotAgreed(Conflict):
    """You declined her terms, or your proposed alternative awaits her answer: you cannot bid."""

    code = "terms_not_agreed"


class AlreadyAnswered(Conflict):
    """You have already answered her terms on this request."""

    code = "already_answered"


def prefixed_errors(prefix: str, error: ValidationError) -> dict[str, list[str]]:
    """Errors about the parts of one field (say the attributes of an intent) as ``prefix.part``
    keys, e.g. ``attributes.mileage``; the API nests them again, the website puts each message
    next to the input of that part."""
    if hasattr(error, "error_dict"):
        return {f"{prefix}.{key}": messages for key, messages in error.message_dict.items()}
    return {prefix: error.messages}
