"""The machinery of the pipeline: outbox, deliveries, the per-vendor event log, webhooks, audit."""

import uuid

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
    dispatched_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=models.Q(processed_at__isnull=True), name="outbox_unprocessed"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Delivery(models.Model):
    """An intent in one vendor's inbox. Unique per intent and vendor: a re-run adds nothing."""

    intent = models.ForeignKey("intents.Intent", on_delete=models.CASCADE, related_name="deliveries")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(
        "vendors.Subscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    passed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["intent", "vendor"], name="delivery_once_per_vendor")]
        indexes = [
            models.Index(fields=["vendor", "-created_at"], name="delivery_inbox"),
            models.Index(fields=["subscription", "created_at"], name="delivery_daily_cap"),
        ]

    def __str__(self) -> str:
        return f"{self.intent_id} → {self.vendor_id}"


class VendorEvent(models.Model):
    """Every event sent to a vendor, in order: the body of its webhooks and of /api/v1/events/."""

    class Kind(models.TextChoices):
        INTENT_MATCHED = "intent.matched"
        INTENT_UPDATED = "intent.updated"
        INTENT_WITHDRAWN = "intent.withdrawn"
        BID_ACCEPTED = "bid.accepted"
        BID_DECLINED = "bid.declined"
        MESSAGE_CREATED = "message.created"
        RATING_REVEALED = "rating.revealed"
        IDENTITY_REVEALED = "identity.revealed"
        ENDPOINT_DISABLED = "webhook.endpoint_disabled"
        PING = "webhook.ping"

    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    # What the event is about (an intent or bid id); with vendor and kind it makes the event unique.
    subject = models.CharField(max_length=64)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "kind", "subject"], name="vendor_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.vendor_id}"

    @property
    def message_id(self) -> str:
        """The Standard Webhooks ``webhook-id``: stable across retries of this event."""
        return f"evt_{self.pk}"


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    # Standard Webhooks secret, "whsec_" + base64; shown to the vendor once.
    secret = models.CharField(max_length=100)
    # Event kinds this endpoint wants; empty means all.
    events = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url

    def wants(self, kind: str) -> bool:
        return not self.events or kind in self.events


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint, retried with backoff until it succeeds or gives up."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (given up)"

    event = models.ForeignKey(VendorEvent, on_delete=models.CASCADE, related_name="webhook_deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_delivery_due")
        ]

    def __str__(self) -> str:
        return f"event {self.event_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(auto_now_add=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-attempted_at"]

    def __str__(self) -> str:
        return f"{'ok' if self.succeeded else 'failed'} {self.response_status or self.error} at {self.attempted_at}"


class AuditLog(models.Model):
    """Who did what to what, for moderators."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"
