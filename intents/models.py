from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ProtectedError, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from treebeard.mp_tree import MP_Node

from broker.core.errors import AgreementImmutable
from intents.taxonomy_cache import forget_taxonomy
from intents.terms import DEFAULT_AGREEMENT_CODE, STANDARD_ROSTER, clean_clauses


class Category(MP_Node):
    """A node of the taxonomy (vehicles > cars). A subscription to a category covers its
    descendants; an intent in a category carries the attributes of its schema.

    A treebeard materialised path (``path``, ``depth``, ``numchild``): a category's subtree is
    ``path__startswith=category.path``. There is no parent column; ``parent`` reads the node
    above, and setting it then saving adds the node there (or moves it, with its descendants).
    """

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    # [{"name", "label", "type": text|number|enum|boolean|range, "unit", "choices", "multiple", "required"}]
    attributes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    @property
    def parent(self) -> Category | None:
        """The category above, or the one set to move (or add) this one below on ``save``."""
        if _NEW_PARENT in self.__dict__:
            return self.__dict__[_NEW_PARENT]
        return Category.objects.get_parent(self) if self.path else None

    @parent.setter
    def parent(self, parent: Category | None) -> None:
        self.__dict__[_NEW_PARENT] = parent

    @property
    def parent_path(self) -> str:
        """The parent's ``path`` ("" for a root), without a query."""
        return self.path[: -self.steplen]

    def save(self, *args, **kwargs) -> None:
        parent = self.__dict__.pop(_NEW_PARENT, _UNSET)
        if not self.path:  # new: treebeard gives it its path, then saves it again through here
            if parent is None or parent is _UNSET:
                Category.objects.add_root(instance=self)
            else:
                Category.objects.add_child(parent, instance=self)
            return
        if parent is not _UNSET:
            current = Category.objects.filter(pk=self.pk).values_list("path", flat=True).first() or self.path
            target = Category.objects.get(pk=parent.pk) if parent is not None else None
            if (target.path if target else "") != current[: -self.steplen]:
                if target is not None and target.path.startswith(current):
                    raise ValueError("A category cannot be moved below itself.")
                super().save(*args, **self._without_tree_fields(kwargs))
                if target is None:
                    Category.objects.move(self, Category.objects.get_last_root_node(), "last-sibling")
                else:
                    Category.objects.move(self, target, "last-child")
                self.refresh_from_db(fields=["path", "depth", "numchild"])
                return
        super().save(*args, **self._without_tree_fields(kwargs))

    def _without_tree_fields(self, kwargs: dict) -> dict:
        """An update writes the category's own fields, never its (possibly stale) tree fields:
        only treebeard's add and move write those."""
        if self._state.adding or kwargs.get("force_insert") or kwargs.get("update_fields") is not None:
            return kwargs
        own = [f.attname for f in self._meta.concrete_fields if not f.primary_key and f.name not in self._TREE_FIELDS]
        return {**kwargs, "update_fields": own}

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Refuse to delete a category that has subcategories: treebeard would delete the whole
        subtree with it, where the hand-rolled tree before it refused (``PROTECT``)."""
        if self.numchild:
            raise ProtectedError("Move or delete its subcategories first.", set(Category.objects.get_children(self)))
        return super().delete(*args, **kwargs)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids of the ancestors and of this category, root first: one query on the prefixes of
        ``path``, remembered for as long as the path stays the same."""
        cached = self.__dict__.get("_ancestor_ids")
        if cached is not None and cached[0] == self.path:
            return cached[1]
        paths = [self.path[:end] for end in range(self.steplen, len(self.path) + 1, self.steplen)]
        by_path = dict(Category.objects.filter(path__in=paths).values_list("path", "pk"))
        ids = [by_path[path] for path in paths]
        self.__dict__["_ancestor_ids"] = (self.path, ids)
        return ids


# Where ``Category.parent = ...`` keeps the parent until ``save`` adds or moves the node there.
_NEW_PARENT = "_new_parent"
_UNSET: Any = object()


class Region(models.Model):
    """An ISO 3166-1 country or ISO 3166-2 subdivision, as a tree (GB > GB-ENG > GB-LND).

    ``lft``/``rgt`` number the tree in pre-order (a nested set), so "this region and everything
    inside it" is the integer range ``lft..rgt``: one pre-order over all countries, numbered by
    ``intents.taxonomy.renumber_regions`` (through ``load_regions``; ``manage.py load_taxonomy``
    then rebuilds the subscription index). Not a treebeard tree: see ``intents.taxonomy``.
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


# Her audience controls (``Intent.audience_max``, ``audience_min_rating``): the bounds the form,
# ``clean_intent`` and the database agree on. See docs/matching.md.
AUDIENCE_MAX_VENDORS = 500
MIN_STARS = Decimal("1.0")
MAX_STARS = Decimal("5.0")


class AgreementManager(models.Manager["Agreement"]):
    def roster(self) -> models.QuerySet[Agreement]:
        """The agreements on offer: the latest offered version of each code, in the order they
        were added (the seeded roster's order, the default first)."""
        self.ensure_roster()
        latest = self.filter(code=models.OuterRef("code"), offered=True).order_by("-version").values("pk")[:1]
        return self.filter(offered=True, pk=models.Subquery(latest)).order_by("id")

    def default(self) -> Agreement | None:
        """The setting's default agreement (``INTENTCAST["DEFAULT_AGREEMENT"]``, a code): its
        latest offered version, else the first of the roster."""
        code = settings.INTENTCAST.get("DEFAULT_AGREEMENT", DEFAULT_AGREEMENT_CODE)
        roster = self.roster()
        return roster.filter(code=code).first() or roster.first()

    def ensure_roster(self) -> None:
        """Put the standard roster back when the table is empty (the data migration seeds it;
        a database whose tables were flushed has none)."""
        if not self.exists():
            self.bulk_create([self.model(**entry) for entry in STANDARD_ROSTER], ignore_conflicts=True)


class Agreement(models.Model):
    """A standard agreement of the roster (after IEEE 7012 "MyTerms"): what she proffers with a
    request and what vendors accept, propose instead, or decline (``intents.terms``,
    ``vendors.agreements``).

    A version is immutable once used (``first_used_at``: a request proffered it or a vendor
    proposed it): its content cannot change and it cannot be deleted, because agreements reached
    on it cite it, digest included. A change is a new version of the same ``code``. ``offered``
    says whether the form and the API's roster list it; it may change at any time.
    """

    code = models.SlugField(max_length=50, help_text="Stable id, e.g. standard; shared by all its versions.")
    version = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    title = models.CharField(max_length=120)
    summary = models.TextField(help_text="In plain words, what a vendor promises.")
    # {"purpose_limited": true, "delete_after_days": 90}: the vocabulary of intents.terms.CLAUSES
    clauses = models.JSONField()
    offered = models.BooleanField(default=True, help_text="Listed on the request form and in the API's roster.")
    created_at = models.DateTimeField(auto_now_add=True)
    first_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AgreementManager()

    # What may never change once the version is used.
    CONTENT_FIELDS = ("code", "version", "title", "summary", "clauses")

    class Meta:
        ordering = ["code", "version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="agreement_code_version_once")]

    def __str__(self) -> str:
        return f"{self.title} ({self.code} v{self.version})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        changed = self.changed_content()
        if changed:
            raise AgreementImmutable(self._immutable_message(changed))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if Agreement.objects.filter(pk=self.pk, first_used_at__isnull=False).exists():
            raise AgreementImmutable(f"{self} is used by requests or agreements and cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_used(self) -> bool:
        return self.first_used_at is not None

    def clean(self) -> None:
        self.clauses = clean_clauses(self.clauses)
        changed = self.changed_content()
        if changed:
            raise ValidationError(self._immutable_message(changed))

    def changed_content(self) -> list[str]:
        """The content fields that differ from the stored row, if this version is used."""
        if self.pk is None:
            return []
        stored = Agreement.objects.filter(pk=self.pk).values(*self.CONTENT_FIELDS, "first_used_at").first()
        if stored is None or stored["first_used_at"] is None:
            return []
        return [name for name in self.CONTENT_FIELDS if stored[name] != getattr(self, name)]

    def _immutable_message(self, changed: list[str]) -> str:
        return (
            f"{self.code} v{self.version} is used by requests or agreements and cannot change "
            f"({', '.join(changed)}); add a new version of it instead."
        )


def default_agreement_id() -> int | None:
    """The default of ``Intent.agreement`` for a request written without one (bulk writers,
    fixtures): the setting's default agreement (``AgreementManager.default``)."""
    # Ids only: a migration calls this too (intents 0005), when later columns may not exist yet.
    roster = Agreement.objects.roster()
    code = settings.INTENTCAST.get("DEFAULT_AGREEMENT", DEFAULT_AGREEMENT_CODE)
    return roster.filter(code=code).values_list("pk", flat=True).first() or roster.values_list("pk", flat=True).first()


# The longest a request's details may be (the form, ``clean_intent`` and the database say so):
# the text is stemmed for matching, so a request of any length would be a way to slow it down.
MAX_DETAILS = 5000


class Intent(models.Model):
    """A customer's request. Vendors never see ``customer``; they see a pairwise handle."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        # Held by a review rule before it is cast (``intents.review``): no vendor has it until a
        # moderator releases it (then it is open and cast) or removes it.
        IN_REVIEW = "in_review", "In review"
        ACCEPTED = "accepted", "Deal agreed"
        COMPLETED = "completed", "Deal completed"
        FELL_THROUGH = "fell_through", "Deal fell through"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"
        REMOVED = "removed", "Removed by a moderator"

    class Format(models.TextChoices):
        OPEN = "open", "Open: vendors see how many offers there are and the best price, and may improve theirs"
        SEALED = "sealed", "Sealed: nobody sees any offer, you included, until your deadline"

    class CloseReason(models.TextChoices):
        WITHDRAWN = "withdrawn", "I changed my mind"
        BOUGHT_ELSEWHERE = "bought_elsewhere", "I bought elsewhere"
        NO_LONGER_NEEDED = "no_longer_needed", "I no longer need it"
        EXPIRED = "expired", "It expired"
        MODERATION = "moderation", "Removed by a moderator"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="intents")
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True, validators=[MaxLengthValidator(MAX_DETAILS)])
    language = models.CharField(max_length=8, default="en")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="intents")
    attributes = models.JSONField(default=dict, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="intents")
    budget_max = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(max_length=3, blank=True)
    # The standard agreement she proffers (``intents.terms``); ``terms`` is its clauses in the
    # three-flag shape of API 1.0/1.1, written with it.
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="intents", default=default_agreement_id
    )
    terms = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Why it closed without a deal (told to the vendors), and a moderator's words to her.
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)
    removal_reason = models.TextField(blank=True)
    # Why a review rule held it (for moderators; she sees only "In review").
    held_because = models.TextField(blank=True)
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.OPEN)
    # A sealed request's deadline: until then no offer is shown to anyone.
    sealed_until = models.DateTimeField(null=True, blank=True)
    # Counts her amendments; events about an amended request name the revision.
    revision = models.PositiveIntegerField(default=1)
    # Who hears her (applied by the matcher after its own rules; docs/matching.md): the most
    # vendors it may reach (the best by fit and reputation), the least a rated vendor's mean
    # rating may be, and whether vendors with too few ratings to judge ("new") may hear it. The
    # vendors she invites or excludes by name are ``vendors.AudienceChoice`` rows.
    audience_max = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(AUDIENCE_MAX_VENDORS)]
    )
    audience_min_rating = models.DecimalField(
        max_digits=2,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_STARS), MaxValueValidator(MAX_STARS)],
    )
    audience_include_new = models.BooleanField(default=True)
    # Whether she named vendors (``vendors.AudienceChoice``): the matcher reads them only then, so
    # a request without any costs it no query.
    audience_named = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="intent_customer_newest")]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("details"), MAX_DETAILS), name="intent_details_max_length"
            ),
            models.CheckConstraint(
                condition=Q(audience_max__isnull=True) | Q(audience_max__gte=1, audience_max__lte=AUDIENCE_MAX_VENDORS),
                name="intent_audience_max_range",
            ),
            models.CheckConstraint(
                condition=Q(audience_min_rating__isnull=True)
                | Q(audience_min_rating__gte=MIN_STARS, audience_min_rating__lte=MAX_STARS),
                name="intent_audience_min_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def has_audience_limits(self) -> bool:
        """Whether she narrowed who hears it: by number, by reputation, or by naming vendors."""
        return (
            self.audience_max is not None
            or self.audience_min_rating is not None
            or not self.audience_include_new
            or self.audience_named
        )

    def is_sealed(self, now: datetime | None = None) -> bool:
        """Whether offers are still hidden from everyone (a sealed request before its deadline)."""
        return (
            self.format == self.Format.SEALED
            and self.sealed_until is not None
            and (now or timezone.now()) < self.sealed_until
        )


class Notification(models.Model):
    """Something that happened to one of her requests, in her list on the site (and, if she
    chose so for its kind, in an email too). Written by ``intents.notifications`` alone."""

    class Kind(models.TextChoices):
        OFFER = "offer", "New offers"
        COUNTER_ANSWERED = "counter_answered", "Answers to your requests for a better offer"
        MESSAGE = "message", "Messages from vendors"
        DEAL = "deal", "Deal steps (agreed, completed, fell through)"
        REQUEST_CLOSED = "request_closed", "Requests that expired or were removed"
        TERMS = "terms", "Vendors proposing other terms than yours"
        MODERATION = "moderation", "Moderators' decisions (held requests, withdrawn offers)"
        REPORT = "report", "Your reports and reports about you"

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    intent = models.ForeignKey(Intent, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=300)
    # Where it leads on the site (a path), e.g. the request's offers.
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="notification_list"),
            models.Index(fields=["customer"], condition=models.Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.text


class NotificationPreference(models.Model):
    """Her choice, for one kind of notification, of an email as well as the entry on the site.
    No row: the default (``intents.notifications.EMAIL_BY_DEFAULT``)."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=Notification.Kind.choices)
    email = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind"], name="notification_preference_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {'email' if self.email else 'site only'}"


class ReviewRule(models.Model):
    """A rule that holds a new request for a moderator before it is cast (``intents.review``),
    edited by moderators in admin: a blocked word or a pattern in its title or details, a new
    customer's first requests, or a budget above an amount in a currency."""

    class Kind(models.TextChoices):
        WORD = "word", "Blocked word (whole word, any case)"
        PATTERN = "pattern", "Pattern (regular expression, any case)"
        FIRST_REQUESTS = "first_requests", "A customer's first N requests"
        BUDGET_ABOVE = "budget_above", "Budget above an amount (in its currency)"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The word or the pattern (WORD, PATTERN).
    text = models.CharField(max_length=300, blank=True)
    # How many of her first requests are held (FIRST_REQUESTS).
    count = models.PositiveSmallIntegerField(null=True, blank=True)
    # The budget above which a request is held, in ``currency`` (BUDGET_ABOVE).
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True, help_text="Why the rule exists (for other moderators).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        if self.kind == self.Kind.FIRST_REQUESTS:
            return f"A customer's first {self.count} requests"
        if self.kind == self.Kind.BUDGET_ABOVE:
            return f"Budget above {self.amount} {self.currency}"
        return f"{self.get_kind_display().split(' (')[0]}: {self.text}"


# The process's memory of the taxonomy, the agreements and the review rules (intents.taxonomy_cache)
# goes stale when they change.
for _model in (Category, Region, Agreement, ReviewRule):
    models.signals.post_save.connect(forget_taxonomy, sender=_model, dispatch_uid=f"forget_taxonomy_{_model.__name__}")
    models.signals.post_delete.connect(forget_taxonomy, sender=_model, dispatch_uid=f"forget_{_model.__name__}")
