import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class Category(models.Model):
    """A node of the taxonomy (vehicles > cars). A subscription to a category covers its
    descendants; an intent in a category carries the attributes of its schema."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    # [{"name", "label", "type": text|number|enum|boolean|range, "unit", "choices", "multiple", "required"}]
    attributes = models.JSONField(default=list, blank=True)
    # Ids of the ancestors and self, root first, e.g. "1/4/9": matching reads it instead of walking up.
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.pk is None:
            super().save(*args, **kwargs)
            kwargs = {k: v for k, v in kwargs.items() if k not in ("force_insert", "using")}
        old_path = self.path
        self.path = f"{self.parent.path}/{self.pk}" if self.parent_id else str(self.pk)
        if self.parent_id and self.pk in self.parent.ancestor_ids:
            raise ValueError("A category cannot be moved below itself.")
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # Moved: the descendants' paths (which matching reads) follow.
            for descendant in Category.objects.filter(path__startswith=f"{old_path}/"):
                descendant.path = self.path + descendant.path[len(old_path) :]
                Category.objects.filter(pk=descendant.pk).update(path=descendant.path)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids of the ancestors and of this category, root first."""
        return [int(part) for part in self.path.split("/") if part]


class Region(models.Model):
    """An ISO 3166-1 country or ISO 3166-2 subdivision, as a tree (GB > GB-ENG > GB-LND).

    ``lft``/``rgt`` number the tree in pre-order (a nested set), so "this region and everything
    inside it" is the integer range ``lft..rgt``. They are renumbered by
    ``intents.taxonomy.load_regions``, which also rebuilds the subscription index.
    """

    class Kind(models.TextChoices):
        COUNTRY = "country", "Country"
        SUBDIVISION = "subdivision", "Subdivision"

    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    subdivision_type = models.CharField(max_length=80, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    lft = models.PositiveIntegerField(default=0, db_index=True)
    rgt = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["lft"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Intent(models.Model):
    """A customer's request. Vendors never see ``customer``; they see a pairwise handle."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"
        REMOVED = "removed", "Removed by a moderator"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="intents")
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True)
    language = models.CharField(max_length=8, default="en")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="intents")
    attributes = models.JSONField(default=dict, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="intents")
    budget_max = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(max_length=3, blank=True)
    terms = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    removal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="intent_customer_newest")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
