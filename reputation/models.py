from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Rating(models.Model):
    """One side's rating of the other after an accepted bid. Double-blind: hidden until both
    sides have rated or the rating window has ended."""

    class Side(models.TextChoices):
        CUSTOMER = "customer", "Customer rates vendor"
        VENDOR = "vendor", "Vendor rates customer"

    bid = models.ForeignKey("vendors.Bid", on_delete=models.CASCADE, related_name="ratings")
    by = models.CharField(max_length=8, choices=Side.choices)
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    hidden_by_moderator = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bid", "by"], name="rating_once_per_side"),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 by {self.by}"
