"""Ratings of real deals, the scores computed from them (stored, see ``reputation.scoring``), and
what guards them against gaming: admin links between accounts that are one party, and the
review queue of suspected rating rings."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Rating(models.Model):
    """One side's rating of the other after a completed deal. Double-blind: hidden until both
    sides have rated or the rating window has ended. Whether it counts towards a score is
    decided when scores are computed (``reputation.scoring.counting``)."""

    class Side(models.TextChoices):
        CUSTOMER = "customer", "Customer rates vendor"
        VENDOR = "vendor", "Vendor rates customer"

    class Review(models.TextChoices):
        NONE = "", "Not under review"
        IN_REVIEW = "in_review", "In review (does not count)"
        CLEARED = "cleared", "Cleared by a moderator (counts)"
        CONFIRMED = "confirmed", "Confirmed ring (never counts)"

    bid = models.ForeignKey("vendors.Bid", on_delete=models.CASCADE, related_name="ratings")
    by = models.CharField(max_length=8, choices=Side.choices)
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    hidden_by_moderator = models.BooleanField(default=False)
    # Set by the ring detector and by a moderator's decision on its flag (reputation.services).
    review = models.CharField(max_length=10, choices=Review.choices, blank=True, default="", db_default="")
    ring = models.ForeignKey(
        "reputation.RingFlag", null=True, blank=True, on_delete=models.SET_NULL, related_name="ratings"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bid", "by"], name="rating_once_per_side"),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 by {self.by}"


class AccountLink(models.Model):
    """A moderator's word that a customer account and a vendor are one party (the dealer's own
    second account, a family business): they cannot rate each other, and ratings already given
    between them stop counting."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="+")
    reason = models.TextField(help_text="Why these accounts are one party (kept in the audit log too).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "vendor"], name="account_link_once")]

    def __str__(self) -> str:
        return f"user {self.user_id} ↔ vendor {self.vendor_id}"


class RingFlag(models.Model):
    """A suspected rating ring, found by ``reputation.services.detect_rings``: the ratings in it
    stop counting until a moderator clears them (they count again) or confirms the ring (they
    never count)."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a moderator"
        CLEARED = "cleared", "Cleared: the ratings count"
        CONFIRMED = "confirmed", "Confirmed: the ratings never count"

    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    summary = models.TextField(help_text="What the detector saw.")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "suspected rating ring"

    def __str__(self) -> str:
        return f"ring around vendor {self.vendor_id} ({self.status})"


class MarketPrior(models.Model):
    """The market's mean and variance of counting ratings for one side: the prior every score
    of that side starts from. Refreshed by the periodic full recompute only, so a score updated
    between two runs uses the same prior as the run would (``reputation.scoring``)."""

    side = models.CharField(max_length=8, choices=Rating.Side.choices, unique=True)
    mean = models.FloatField()
    variance = models.FloatField()
    ratings = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.side}: {self.mean:.2f} ± {self.variance:.2f} ({self.ratings})"


class ScoreFields(models.Model):
    """A stored score: how many ratings count, their decayed weight, the Bayesian average shown
    and the lower bound used for ranking (None without a counting rating)."""

    ratings = models.PositiveIntegerField(default=0)
    weight = models.FloatField(default=0)
    score = models.FloatField(null=True, blank=True)
    rank_score = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        abstract = True


class VendorScore(ScoreFields):
    """A vendor's score from customers' ratings."""

    vendor = models.OneToOneField("vendors.Vendor", on_delete=models.CASCADE, primary_key=True, related_name="+")

    def __str__(self) -> str:
        return f"vendor {self.vendor_id}: {self.score} ({self.ratings})"


class CustomerScore(ScoreFields):
    """A customer's score from vendors' ratings; vendors only ever see a band of it."""

    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"customer {self.customer_id}: {self.score} ({self.ratings})"


class VendorBehaviourStats(models.Model):
    """A vendor's behaviour figures (``reputation.selectors.vendor_behaviour``), stored so that a
    page reads them with the score instead of aggregating the vendor's whole history on every
    view. Recomputed from the vendors' tables when the facts change and, for deliveries that
    became due with time alone, by a periodic sweep (``reputation.services``)."""

    vendor = models.OneToOneField("vendors.Vendor", on_delete=models.CASCADE, primary_key=True, related_name="+")
    deliveries_due = models.PositiveIntegerField(default=0)
    answered_share = models.FloatField(null=True, blank=True)
    median_hours_to_offer = models.FloatField(null=True, blank=True)
    deals_completed = models.PositiveIntegerField(default=0)
    deals_fell_through = models.PositiveIntegerField(default=0)
    deals_backed_out = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = "vendor behaviour"
        verbose_name_plural = "vendor behaviour"

    def __str__(self) -> str:
        return f"vendor {self.vendor_id}: answered {self.answered_share} of {self.deliveries_due}"


class BehaviourSweep(models.Model):
    """How far the periodic sweep of behaviour figures got: every delivery that became due an
    answer (``ANSWER_GRACE_HOURS`` old) before ``swept_to`` is counted in its vendor's figures.
    One row; none before the first sweep, which computes every vendor's figures."""

    swept_to = models.DateTimeField()

    def __str__(self) -> str:
        return f"behaviour swept to {self.swept_to:%Y-%m-%d %H:%M}"
