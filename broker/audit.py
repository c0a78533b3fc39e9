from __future__ import annotations

from django.db import models

from broker.models import AuditLog


def record_audit(*, actor, action: str, target: models.Model, **detail) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        detail=detail,
    )
