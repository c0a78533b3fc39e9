"""The core's own tables: the transactional outbox and the audit log. Nothing here knows the
apps above it."""

from django.conf import settings
from django.db import models


class OutboxEvent(models.Model):
    """A fact written in the same transaction as the change it reports.

    A task picks it up after commit; a periodic task dispatches again whatever is still
    unprocessed, so an event written while Redis was down still reaches the workers.
    """

    kind = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the sweep last sent it again (the first dispatch, after commit, is not recorded).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=models.Q(processed_at__isnull=True), name="outbox_unprocessed"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class AuditLogImmutable(Exception):
    """An audit entry was to be changed or deleted: the log is written once and kept as written."""


class AuditLogQuerySet(models.QuerySet):
    """No bulk change or delete: every entry stays as its service wrote it."""

    def update(self, **kwargs):
        raise AuditLogImmutable("Audit entries cannot be changed.")

    def delete(self):
        raise AuditLogImmutable("Audit entries cannot be deleted.")


class AuditLog(models.Model):
    """Who did what to what, when and why (``detail["reason"]``), for moderators. Written once by
    ``broker.core.audit.record_audit`` and never changed or deleted: ``save`` refuses an existing
    row, ``delete`` and the queryset's ``update``/``delete`` refuse always (the admin shows it
    read-only). Only the actor's link is cleared by the database's ``SET NULL`` when that
    account is erased, as its own rule says."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditLogImmutable("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogImmutable("Audit entries cannot be deleted.")


class IdempotencyRecord(models.Model):
    """A request made with an ``Idempotency-Key``, and the response it got, kept so that the same
    request again gets the same response rather than doing it twice. ``scope`` says whose key it
    is (the edge that uses it decides, say ``vendor:12``); ``status_code`` is empty while the first
    request still runs."""

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key")]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expires")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
