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
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class IntentClosed(Conflict):
    code = "intent_closed"


class BidNotActive(Conflict):
    code = "bid_not_active"


class AlreadyBidding(Conflict):
    code = "already_bidding"


def prefixed_errors(prefix: str, error: ValidationError) -> dict[str, list[str]]:
    """Errors about the parts of one field (say the attributes of an intent) as ``prefix.part``
    keys, e.g. ``attributes.mileage``; the API nests them again, the website puts each message
    next to the input of that part."""
    if hasattr(error, "error_dict"):
        return {f"{prefix}.{key}": messages for key, messages in error.message_dict.items()}
    return {prefix: error.messages}
