"""Reports (grievances) between the two sides, and their lifecycle: open → in review → resolved
or dismissed, optionally escalated on the way (after ONDC's issue and grievance model). See
docs/moderation.md. Written only by ``moderation.services``."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from vendors.models import Bid, Message, Vendor

MAX_TEXT = 2000


class Report(models.Model):
    """One party reports the other: a customer reports a vendor's offer, message or the vendor
    itself; a vendor reports a customer's request or message. ``customer`` and ``vendor`` are
    always the two parties (whoever reported), so both are told of every step; a vendor is never
    told which customer account reported it, only the subject it is about."""

    class Side(models.TextChoices):
        CUSTOMER = "customer", "The customer"
        VENDOR = "vendor", "The vendor"

    class Subject(models.TextChoices):
        OFFER = "offer", "An offer"
        MESSAGE = "message", "A message"
        VENDOR = "vendor", "A vendor"
        REQUEST = "request", "A request"

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or advertising"
        ABUSIVE = "abusive", "Abusive, threatening or offensive"
        FRAUD = "fraud", "Fraud or a scam"
        MISLEADING = "misleading", "Misleading or false"
        PERSONAL_DATA = "personal_data", "Asks for or shares personal data"
        BROKE_AGREEMENT = "broke_agreement", "Broke our agreement"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_REVIEW = "in_review", "In review"
        ESCALATED = "escalated", "Escalated"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reported_by = models.CharField(max_length=8, choices=Side.choices)
    subject = models.CharField(max_length=8, choices=Subject.choices)
    # The two parties. Her account goes (SET NULL) if she is erased; the report stays for the record.
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="reports")
    # What it is about (the one its ``subject`` names; a vendor report has none of these).
    intent = models.ForeignKey(
        "intents.Intent", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    bid = models.ForeignKey(Bid, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    # When a moderator is expected to have answered it: created + the reason's response time.
    due_at = models.DateTimeField()
    # What the moderator decided, told to both parties (resolved or dismissed).
    outcome = models.TextField(blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status__in=["open", "in_review", "escalated"]), name="report_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} report ({self.get_reason_display().lower()}), {self.get_status_display()}"

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.RESOLVED, self.Status.DISMISSED)
