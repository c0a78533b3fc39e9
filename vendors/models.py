"""The vendor side and everything a vendor holds or is sent: vendors, API keys, subscriptions and
their matching index, the inbox (deliveries), what each vendor knows of a customer (pseudonyms,
blocks, identities she revealed), bids, message threads, and the per-vendor event log with its
webhooks."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Q


class Vendor(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=200)
    contact_email = models.EmailField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    # Everyone who acts or acted for the vendor (a removed member stays: reputation counts the
    # vendor's people as one party with it). Who may act now: ``VendorMembership.removed_at``.
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="vendors", through="VendorMembership"
    )
    # What a business says of itself when it signs up; the description is shown to customers.
    # db_default: rows written outside the ORM (bench/data.py's COPY, SQL fixtures) stay valid.
    website = models.URLField(max_length=300, blank=True, db_default="")
    description = models.TextField(max_length=1000, blank=True, db_default="")
    categories = models.ManyToManyField("intents.Category", blank=True, related_name="+")
    regions = models.ManyToManyField("intents.Region", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(max_length=2000, blank=True, db_default="")

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


class VendorMembership(models.Model):
    """A login that acts for a vendor. An account with a membership, current or removed, is a
    vendor account: it never opens a customer's pages (and a customer's account never opens the
    vendor area), so one login cannot act on both sides of a deal. One current vendor per login."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "user"], name="membership_once_per_pair"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(removed_at__isnull=True), name="membership_one_current_vendor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.vendor_id}"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


class VendorInvitation(models.Model):
    """An owner invited someone by email to act for the vendor. Only the token's digest is
    stored; the link in the email carries the token."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=8, choices=VendorMembership.Role.choices, default=VendorMembership.Role.MEMBER)
    digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.vendor_id}"


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
    # Paused because its vendor was suspended (``vendors.services.suspend_vendor``): reinstating
    # the vendor resumes exactly these, not the ones the vendor had paused itself.
    paused_by_moderation = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or f"subscription {self.pk}"


class SubscriptionKey(models.Model):
    """The inverted index of subscriptions (see ``broker.pipeline.matching``).

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


class Delivery(models.Model):
    """An intent in one vendor's inbox. Unique per intent and vendor: a re-run adds nothing."""

    # No single-column indexes: each column leads a composite index below (intent: the unique
    # pair; vendor: the inbox; subscription: the daily cap), and a fan-out writes every index of
    # every delivery (100,000 at a time).
    intent = models.ForeignKey("intents.Intent", on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries", db_index=False
    )

    class PassReason(models.TextChoices):
        NOT_IN_STOCK = "not_in_stock", "Nothing like it in stock"
        PRICE = "price", "Cannot meet the budget"
        AREA = "area", "Outside our area"
        TIMING = "timing", "Cannot meet the timing"
        OTHER = "other", "Another reason"

    created_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    passed_at = models.DateTimeField(null=True, blank=True)
    pass_reason = models.CharField(max_length=16, choices=PassReason.choices, blank=True, db_default="")
    # She amended the request and it no longer matches this vendor: out of its inbox.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["intent", "vendor"], name="delivery_once_per_vendor")]
        indexes = [
            # The inbox pages newest first by id (broker.api.views.IntentViewSet).
            models.Index(fields=["vendor", "-id"], name="delivery_inbox_by_id"),
            models.Index(fields=["subscription", "created_at"], name="delivery_daily_cap"),
        ]

    def __str__(self) -> str:
        return f"{self.intent_id} → {self.vendor_id}"


class AudienceChoice(models.Model):
    """A vendor she named for one request: invited (it hears the request even outside its
    subscriptions, if it serves the category) or excluded (it never hears it). Private to her:
    no vendor is told who else was invited or excluded. See docs/matching.md."""

    class Kind(models.TextChoices):
        INVITE = "invite", "Invited"
        EXCLUDE = "exclude", "Excluded"

    intent = models.ForeignKey("intents.Intent", on_delete=models.CASCADE, related_name="audience_choices")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["intent", "vendor"], name="audience_choice_once_per_vendor")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.vendor_id} for {self.intent_id}"


class Pseudonym(models.Model):
    """The handle one vendor knows a customer by: stable for that vendor, different for every
    other vendor, and not derived from anything about the customer."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pseudonyms")
    # The unique pair (vendor, customer) below serves look-ups by vendor; a fan-out writes one
    # pseudonym per vendor, so every index counts.
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="pseudonyms", db_index=False)
    # Unique by a constraint rather than ``unique=True``, which on PostgreSQL would add a second
    # index on the handle (``varchar_pattern_ops``, for LIKE 'prefix%'), which no query uses.
    handle = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "customer"], name="pseudonym_once_per_pair"),
            models.UniqueConstraint(fields=["handle"], name="pseudonym_handle_unique"),
        ]

    def __str__(self) -> str:
        return self.handle


class Block(models.Model):
    """One side of a customer–vendor pair refuses the other: no more intents between them."""

    class Side(models.TextChoices):
        CUSTOMER = "customer", "Customer blocked vendor"
        VENDOR = "vendor", "Vendor blocked customer"

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="blocks")
    blocked_by = models.CharField(max_length=8, choices=Side.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "vendor", "blocked_by"], name="block_once_per_side")]

    def __str__(self) -> str:
        return f"{self.get_blocked_by_display()} ({self.vendor_id})"


class IdentityReveal(models.Model):
    """The customer told one vendor who she is, after accepting its bid. Only that vendor sees
    what she chose to share; every other vendor still knows her by a handle alone."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reveals")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="reveals")
    intent = models.ForeignKey("intents.Intent", on_delete=models.CASCADE, related_name="reveals")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    revealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "customer"], name="reveal_once_per_pair")]

    def __str__(self) -> str:
        return f"{self.name} to vendor {self.vendor_id}"

    def shared(self) -> dict:
        return {
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "revealed_at": self.revealed_at.isoformat(),
        }


class VendorNote(models.Model):
    """Her private notes about a vendor she dealt with: shown to her alone, never to any vendor
    (no payload, event, webhook or API response reads this table)."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_notes")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "vendor"], name="vendor_note_once_per_pair")]

    def __str__(self) -> str:
        return f"note on vendor {self.vendor_id}"


class Bid(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"
        WITHDRAWN_BY_MODERATION = "withdrawn_by_moderation", "Withdrawn by moderation"

    class DeclineReason(models.TextChoices):
        PRICE = "price", "The price is too high"
        SPECIFICATION = "specification", "Not what I asked for"
        TIMING = "timing", "The timing does not suit me"
        VENDOR = "vendor", "I prefer another vendor"
        OTHER = "other", "Another reason"
        # Set by the broker, not chosen by her:
        ANOTHER_ACCEPTED = "another_accepted", "She accepted another offer"
        REQUEST_CLOSED = "request_closed", "The request closed"
        NO_LONGER_MATCHES = "no_longer_matches", "The request changed and no longer matches"

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
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    # Why she, or the broker for her, declined it; told to the vendor.
    decline_reason = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["intent", "vendor"], condition=Q(status="active"), name="bid_one_active_per_vendor"
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


class BidCounter(models.Model):
    """She asks one vendor for a better offer: a target price and/or other offered values, with a
    note. The vendor answers by revising its bid or by declining; at most one open per bid."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for the vendor"
        ANSWERED = "answered", "The vendor revised its offer"
        DECLINED = "declined", "The vendor declined"
        LAPSED = "lapsed", "Lapsed (the offer or the request closed)"

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="counters")
    target_amount = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    target_attributes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["bid"], condition=Q(status="open"), name="counter_one_open_per_bid")
        ]

    def __str__(self) -> str:
        return f"counter on {self.bid_id} ({self.status})"


class DealOutcome(models.Model):
    """One side's word on how an agreed deal ended: completed, or fallen through (with why)."""

    class Side(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        VENDOR = "vendor", "Vendor"

    class Outcome(models.TextChoices):
        COMPLETED = "completed", "Completed"
        FELL_THROUGH = "fell_through", "Fell through"

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="outcomes")
    side = models.CharField(max_length=8, choices=Side.choices)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bid", "side"], name="deal_outcome_once_per_side")]

    def __str__(self) -> str:
        return f"{self.side}: {self.outcome}"


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


class AgreementAnswer(models.Model):
    """A vendor's answer to the agreement she proffered with a request (``vendors.agreements``):
    it accepts it, proposes one alternative from the roster (she accepts or refuses it), or
    declines it (then it cannot bid). One per request and vendor."""

    class Answer(models.TextChoices):
        ACCEPT = "accept", "Accepted her terms"
        PROPOSE = "propose", "Proposed an alternative"
        DECLINE = "decline", "Declined her terms"

    class Response(models.TextChoices):
        PENDING = "pending", "Waiting for her answer"
        ACCEPTED = "accepted", "She accepted it"
        REFUSED = "refused", "She refused it"

    intent = models.ForeignKey("intents.Intent", on_delete=models.CASCADE, related_name="agreement_answers")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="agreement_answers")
    answer = models.CharField(max_length=8, choices=Answer.choices)
    # The alternative proposed, and her response to it (blank unless the answer is a proposal).
    proposed = models.ForeignKey(
        "intents.Agreement", null=True, blank=True, on_delete=models.PROTECT, related_name="proposals"
    )
    response = models.CharField(max_length=8, choices=Response.choices, blank=True)
    # Accepted by bidding without answering first (the API's behaviour before agreements).
    implicit = models.BooleanField(default=False)
    answered_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["answered_at"]
        constraints = [
            models.UniqueConstraint(fields=["intent", "vendor"], name="agreement_answer_once_per_vendor"),
            # A proposal names its alternative; an answer given after she refused one keeps it.
            models.CheckConstraint(
                condition=~Q(answer="propose") | Q(proposed__isnull=False), name="agreement_answer_proposal_named"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_answer_display()} ({self.vendor_id} on {self.intent_id})"


class AgreementRecord(models.Model):
    """An agreement reached between her and a vendor on one request: the record both sides hold.
    ``digest`` is the SHA-256 of the RFC 8785 canonical JSON of the facts (``vendors.agreements
    .agreement_facts``), so either side can show the record was not altered."""

    intent = models.ForeignKey("intents.Intent", on_delete=models.CASCADE, related_name="agreement_records")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="agreement_records")
    agreement = models.ForeignKey("intents.Agreement", on_delete=models.PROTECT, related_name="records")
    # Her pairwise handle for this vendor (vendors.models.Pseudonym), as the record names her.
    customer_handle = models.CharField(max_length=32)
    clauses = models.JSONField()
    reached_at = models.DateTimeField()
    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-reached_at"]
        constraints = [models.UniqueConstraint(fields=["intent", "vendor"], name="agreement_record_once_per_vendor")]

    def __str__(self) -> str:
        return f"{self.agreement_id} between {self.customer_handle} and {self.vendor_id}"


class VendorEvent(models.Model):
    """Every event sent to a vendor, in order: the body of its webhooks and of /api/v1/events/."""

    class Kind(models.TextChoices):
        INTENT_MATCHED = "intent.matched"
        INTENT_UPDATED = "intent.updated"
        INTENT_WITHDRAWN = "intent.withdrawn"
        BID_ACCEPTED = "bid.accepted"
        BID_DECLINED = "bid.declined"
        BID_COUNTERED = "bid.countered"
        DEAL_UPDATED = "deal.updated"
        REPORT_UPDATED = "report.updated"
        MESSAGE_CREATED = "message.created"
        RATING_REVEALED = "rating.revealed"
        IDENTITY_REVEALED = "identity.revealed"
        AGREEMENT_ACCEPTED = "agreement.accepted"
        AGREEMENT_REFUSED = "agreement.refused"
        ENDPOINT_DISABLED = "webhook.endpoint_disabled"
        PING = "webhook.ping"

    # Indexed with its events' order (``vendor_event_feed``), not alone: the feed reads a vendor's
    # events in id order from a position, which an index on the vendor alone (or the unique one)
    # left to a scan of everyone's events (0.6 s for a vendor with few of them, in 100,000
    # vendors' events); one index entry per event either way.
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="events", db_index=False)
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
        indexes = [models.Index(fields=["vendor", "id"], name="vendor_event_feed")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.vendor_id}"

    @property
    def message_id(self) -> str:
        """The Standard Webhooks ``webhook-id``: stable across retries of this event."""
        return f"evt_{self.pk}"


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    # Standard Webhooks secret, "whsec_" + base64; shown to the vendor once.
    secret = models.CharField(max_length=100)
    # After a rotation the old secret signs too, until ``previous_secret_until`` (Standard
    # Webhooks sends several signatures), so the receiver can switch without losing events.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
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


class BidPhoto(models.Model):
    """A photo of what a bid offers, at most ``MAX_PER_BID`` per bid. What is stored is only what
    ``vendors.photos.add_photo`` made of the upload: re-encoded without any metadata, under a random
    name that says nothing about the bid, the vendor or the customer."""

    MAX_PER_BID = 8

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="bid-photos/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    content_type = models.CharField(max_length=32)
    byte_size = models.PositiveIntegerField()
    # Its slot on the bid, 0 to MAX_PER_BID - 1: the order the vendor sees and the cap, kept by the database.
    position = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["bid", "position"], name="bid_photo_position_once"),
            models.CheckConstraint(condition=Q(position__lt=8), name="bid_photo_at_most_eight"),
        ]

    def __str__(self) -> str:
        return f"photo {self.position + 1} of bid {self.bid_id}"


# The photo's file goes with its row (removed, or its bid, request or vendor deleted), once the
# deletion commits. A signal because cascades (erasure deletes her requests and their bids) delete
# rows without calling any service; connected here so that it holds in every process.


def _delete_photo_file(sender: type[BidPhoto], instance: BidPhoto, using: str, **kwargs: object) -> None:
    name, storage = instance.image.name, instance.image.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name), using=using)


models.signals.post_delete.connect(_delete_photo_file, sender=BidPhoto, dispatch_uid="vendors.bid_photo_file")
