"""The audit log: who did what to what, written by the service that did it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from broker.models import AuditLog

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def record_audit(*, actor: User | None, action: str, target: models.Model, **detail: Any) -> AuditLog:
    """Record ``action`` on ``target`` by ``actor`` (a user, or None for the system)."""
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        detail=detail,
    )
