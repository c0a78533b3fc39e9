import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class Vendor(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending approval"
        APPROVED = "approved", "Approved"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=200)
    contact_email = models.EmailField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="vendors")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    # The API authenticates a vendor as the request's principal (see vendors.api.authentication).
    is_authenticated = True
    is_anonymous = False


class ApiKey(models.Model):
    """A vendor's API key. Only a SHA-256 digest is stored; the key is shown once.

    ``prefix`` is the visible start of the key, so a vendor (and an admin) can tell keys apart.
    """

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, default="default")
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.vendor})"


class Subscription(models.Model):
    """A vendor's standing interest: which intents it wants to hear of."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="subscriptions")
    name = models.CharField(max_length=120, blank=True)
    categories = models.ManyToManyField("intents.Category", related_name="+")
    regions = models.ManyToManyField("intents.Region", related_name="+")
    keywords = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=8, default="en")
    # {"make": {"in": ["Toyota"]}, "mileage": {"max": 60000}, "aircon": {"eq": true}}
    attribute_filters = models.JSONField(default=dict, blank=True)
    min_budget = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    min_budget_currency = models.CharField(max_length=3, blank=True)
    daily_cap = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or f"subscription {self.pk}"


class SubscriptionKey(models.Model):
    """The inverted index of subscriptions (see ``broker.matching``).

    One row per (category, keyword stem, region) the subscription covers; ``stem`` is empty for
    a subscription without keywords and ``region_lft`` is the region's pre-order number. Rebuilt
    whenever the subscription changes; never edited by hand.
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="keys")
    category_id = models.BigIntegerField()
    stem = models.CharField(max_length=64, blank=True)
    region_lft = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["category_id", "stem", "region_lft"], name="subscription_key_lookup")]

    def __str__(self) -> str:
        return f"{self.category_id}/{self.stem or '*'}/{self.region_lft}"


class Bid(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    intent = models.ForeignKey("intents.Intent", on_delete=models.CASCADE, related_name="bids")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="bids")
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3)
    message = models.TextField(blank=True)
    offered_attributes = models.JSONField(default=dict, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    # The customer's terms as they stood when the vendor bid: the recorded agreement.
    terms_accepted = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["intent", "vendor"], condition=Q(status="active"), name="bid_one_active_per_vendor"
            ),
            models.UniqueConstraint(
                fields=["vendor", "idempotency_key"], condition=~Q(idempotency_key=""), name="bid_idempotency_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} by {self.vendor}"


class BidRevision(models.Model):
    """What a bid said before a revision."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="revisions")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    message = models.TextField(blank=True)
    offered_attributes = models.JSONField(default=dict, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} until {self.created_at}"


class Message(models.Model):
    """A message in the thread between a customer and one vendor about one intent, relayed by
    the broker: the vendor sees the customer's handle, never her address."""

    class Sender(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        VENDOR = "vendor", "Vendor"

    intent = models.ForeignKey("intents.Intent", on_delete=models.CASCADE, related_name="messages")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=8, choices=Sender.choices)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["intent", "vendor", "created_at"], name="message_thread")]

    def __str__(self) -> str:
        return f"{self.sender}: {self.body[:40]}"
