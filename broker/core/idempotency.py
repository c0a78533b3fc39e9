"""Idempotency keys, after the IETF draft (httpapi-idempotency-key-header) and Stripe: the first
request with a key claims it, runs, and its response is stored; the same request again with the
same key gets that response back; the key with another request is refused (422), and while the
first still runs, so is a second (409). Keys belong to a ``scope`` (whose keys they are) and
expire after ``settings.IDEMPOTENCY_TTL``; beat sweeps the expired ones.

The core knows nothing of what the requests are: the edge gives a scope, a key, a fingerprint of
the request, and afterwards the response to keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from broker.core.errors import Conflict, DomainError
from broker.models import IdempotencyRecord

MAX_KEY_LENGTH = 255
# Printable ASCII, no space at either end (an HTTP header's value loses those on the way).
KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"


class KeyReused(DomainError):
    """This Idempotency-Key was used with another request."""

    code = "idempotency_key_reused"
    status = 422


class KeyInUse(Conflict):
    """A request with this Idempotency-Key is still running."""

    code = "idempotency_key_in_use"


class InvalidKey(DomainError):
    """The Idempotency-Key header is not 1 to 255 printable ASCII characters."""

    code = "invalid_idempotency_key"


@dataclass(frozen=True)
class Stored:
    """The response the first request with this key got."""

    status_code: int
    body: Any


def claim(*, scope: str, key: str, fingerprint: str) -> int | Stored:
    """Claim ``key`` for a request: its record's id when the request is to run now, or the stored
    response of the first one. Raises ``KeyReused`` or ``KeyInUse``. Commits at once (the claim
    must be seen by a concurrent request), so call it outside any transaction."""
    if len(key) > MAX_KEY_LENGTH or not re.match(KEY_PATTERN, key):
        raise InvalidKey(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, without spaces at the ends."
        )
    now = timezone.now()
    expires_at = now + settings.IDEMPOTENCY_TTL
    try:
        return _insert(scope=scope, key=key, fingerprint=fingerprint, created_at=now, expires_at=expires_at)
    except IntegrityError:
        pass
    earlier = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if earlier is None:  # the other request failed and let go of the key meanwhile
        return claim(scope=scope, key=key, fingerprint=fingerprint)
    stale = earlier.status_code is None and earlier.created_at < now - settings.IDEMPOTENCY_LOCK_TIMEOUT
    if earlier.expires_at <= now or stale:
        # Expired, or held by a request that died: take it over, if no one else does first.
        taken = IdempotencyRecord.objects.filter(pk=earlier.pk, created_at=earlier.created_at).update(
            fingerprint=fingerprint, status_code=None, body=None, created_at=now, expires_at=expires_at
        )
        if taken:
            return earlier.pk
        raise KeyInUse("A request with this Idempotency-Key is in progress; retry later.")
    if earlier.fingerprint != fingerprint:
        raise KeyReused("This Idempotency-Key was used with another request; use a new key for a new request.")
    if earlier.status_code is None:
        raise KeyInUse("A request with this Idempotency-Key is in progress; retry later.")
    return Stored(status_code=earlier.status_code, body=earlier.body)


def _insert(**fields: Any) -> int:
    """A new record's id; ``IntegrityError`` when the key is taken. Outside any transaction (a
    request; ``claim``'s callers) the INSERT commits by itself, one round trip where an atomic
    block would add BEGIN and COMMIT; inside one, a savepoint keeps it usable after a conflict."""
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(**fields).pk
    return IdempotencyRecord.objects.create(**fields).pk


def store(*, record_id: int, status_code: int, body: Any) -> None:
    """Keep the response of the request that claimed the key (``body``: JSON-ready data)."""
    IdempotencyRecord.objects.filter(pk=record_id).update(status_code=status_code, body=body)


def release(*, record_id: int) -> None:
    """Let go of a key whose request failed on the server's side: a retry may run again."""
    IdempotencyRecord.objects.filter(pk=record_id, status_code__isnull=True).delete()


@shared_task
def sweep_idempotency_records() -> int:
    """Delete the expired keys and their responses."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
