"""The audit log: who did what to what, written by the service that did it."""

from __future__ import annotations

from typing import Any

from django.db import models

from broker.models import AuditLog


def record_audit(*, actor: Any, action: str, target: models.Model, **detail: Any) -> AuditLog:
    """Record ``action`` on ``target`` by ``actor`` (a user, or None for the system)."""
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        detail=detail,
    )
