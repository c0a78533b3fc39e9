"""The forms of a vendor's daily work on the website: its subscriptions and its inbox (offers,
passes, messages, answers to her terms, the outcome of a deal). They parse what the browser
sends into what the API's serializers give the same services; the rules are the services'
(``save_subscription``, ``place_bid``/``revise_bid``, ``pass_intent``, ``post_message``,
``answer_terms``, ``mark_outcome``) and their messages land next to the inputs."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.utils import ErrorDict

from broker.core.language import DEFAULT_LANGUAGE, REQUEST_LANGUAGES
from broker.core.money import currency_choices
from broker.vendor_site.forms import AccessibleForm
from intents.attribute_fields import UNSPECIFIED, RangeField, attribute_field, enum_field_choices
from intents.comparison import label_of
from intents.models import Category, Intent, Region
from intents.selectors import agreement_roster
from intents.taxonomy import categories_filter_schema, category_choices, category_schema
from vendors.models import AgreementAnswer, BidPhoto, DealOutcome, Delivery, Subscription
from vendors.threads import MAX_BODY

FILTER_PREFIX = "filter_"
OFFER_PREFIX = "offer_"
REGION_MATCHES = 30
MAX_AMOUNT_DIGITS = 14


def put_service_errors(form: AccessibleForm, error: ValidationError, prefixes: dict[str, str]) -> None:
    """A service's messages next to the inputs they are about: ``attribute_filters.make`` next to
    ``filter_make`` (``prefixes`` maps the service's prefix to the form's), any other key next to
    the field of that name, or above the form."""
    for key, messages in error.message_dict.items():
        name = key
        for prefix, field_prefix in prefixes.items():
            if key.startswith(f"{prefix}."):
                name = field_prefix + key.removeprefix(f"{prefix}.")
        form.add_error(name if name in form.fields else None, messages)
    form.mark_errors()


def split_words(text: str) -> list[str]:
    """ "Yaris, Corolla hybrid" → ["Yaris", "Corolla hybrid"]."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class SubscriptionForm(AccessibleForm):
    """A subscription as the API takes it. Regions are searchable: the select lists the
    countries, the regions already chosen and those matching ``region_search``; the attribute
    filters are those of the chosen categories' schema (``filters_for``)."""

    name = forms.CharField(
        label="Name", required=False, max_length=120, help_text="For you: e.g. “Toyotas around Croydon”."
    )
    categories = forms.TypedMultipleChoiceField(
        label="Categories",
        coerce=int,
        help_text="A category includes everything below it. Hold Ctrl (⌘ on a Mac) to choose several.",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    regions = forms.MultipleChoiceField(
        label="Regions",
        help_text="A country includes its regions. To add a county, state or city, search for it below.",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    region_search = forms.CharField(
        label="Find a region",
        required=False,
        max_length=80,
        help_text="A name or an ISO code (e.g. “Surrey” or “GB-SRY”), then “Find regions”.",
    )
    keywords = forms.CharField(
        label="Keywords",
        required=False,
        max_length=4000,
        help_text="Separated by commas. Leave empty to hear every request in the categories; with keywords, "
        "only those that mention one of them.",
    )
    language = forms.ChoiceField(
        label="Language of the keywords",
        choices=REQUEST_LANGUAGES,
        initial=DEFAULT_LANGUAGE,
        help_text="Keywords are matched by their stems in this language (“cars” finds “car”).",
    )
    min_budget = forms.DecimalField(
        label="Minimum budget",
        required=False,
        min_value=0,
        max_digits=MAX_AMOUNT_DIGITS,
        decimal_places=2,
        help_text="Requests with a lower budget in this currency are not sent to you.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    min_budget_currency = forms.ChoiceField(label="Currency of the minimum budget", required=False)
    daily_cap = forms.IntegerField(
        label="Daily cap",
        required=False,
        min_value=0,
        max_value=2147483647,
        help_text="At most this many requests a day through this subscription; empty for no cap.",
    )

    def __init__(self, *args: Any, subscription: Subscription | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscription = subscription
        cast(forms.ChoiceField, self.fields["categories"]).choices = category_choices()
        cast(forms.ChoiceField, self.fields["min_budget_currency"]).choices = [
            ("", "Choose a currency"),
            *currency_choices(),
        ]
        chosen = self.posted("regions") if self.is_bound else [r.code for r in self.initial.get("regions", [])]
        search = (self.data.get("region_search") or "").strip() if self.is_bound else ""
        matches = Q(kind=Region.Kind.COUNTRY) | Q(code__in=chosen)
        self.found: list[Region] = []
        if search:
            self.found = list(
                Region.objects.filter(Q(name__icontains=search) | Q(code__iexact=search)).order_by("lft")[
                    :REGION_MATCHES
                ]
            )
            matches |= Q(pk__in=[r.pk for r in self.found])
        regions = Region.objects.filter(matches).select_related("parent").order_by("name")
        cast(forms.ChoiceField, self.fields["regions"]).choices = [
            (r.code, r.name if r.kind == Region.Kind.COUNTRY else f"{r.name} ({r.parent.name if r.parent else r.code})")
            for r in regions
        ]
        self.filter_schema: list[dict] = []
        category_ids = self._chosen_category_ids()
        if category_ids:
            self.filter_schema = categories_filter_schema(Category.objects.filter(pk__in=category_ids))
        for definition in self.filter_schema:
            field = filter_field(definition)
            if field is not None:
                self.fields[FILTER_PREFIX + definition["name"]] = field
        if subscription is not None and not self.is_bound:
            self.initial.update(filter_initial(self.filter_schema, subscription.attribute_filters))

    def posted(self, name: str) -> list[str]:
        """Every value posted for a multiple select."""
        return self.data.getlist(name)  # type: ignore[attr-defined]

    def as_typed(self) -> None:
        """Show the form as typed, not judged: "Find regions" and "Show their filters" only
        redraw it, so an input still empty is no error yet."""
        self._errors = ErrorDict()
        self.cleaned_data = {}

    def _chosen_category_ids(self) -> list[int]:
        values = self.posted("categories") if self.is_bound else [c.pk for c in self.initial.get("categories", [])]
        return [int(v) for v in values if str(v).isdigit()]

    def filter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(FILTER_PREFIX)]

    def clean_categories(self) -> list[Category]:
        return list(Category.objects.filter(pk__in=self.cleaned_data["categories"]))

    def clean_regions(self) -> list[Region]:
        return list(Region.objects.filter(code__in=self.cleaned_data["regions"]))

    def subscription_data(self) -> dict[str, Any]:
        """What ``save_subscription`` takes, as the API's serializer gives it."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "categories": data["categories"],
            "regions": data["regions"],
            "keywords": split_words(data["keywords"]),
            "language": data["language"],
            "attribute_filters": self.attribute_filters(),
            "min_budget": data["min_budget"],
            "min_budget_currency": data["min_budget_currency"],
            "daily_cap": data["daily_cap"],
        }

    def attribute_filters(self) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        for definition in self.filter_schema:
            value = self.cleaned_data.get(FILTER_PREFIX + definition["name"])
            if value in (None, "", []):
                continue
            kind = definition["type"]
            if kind == "enum":
                filters[definition["name"]] = {"in": list(value)}
            elif kind == "text":
                filters[definition["name"]] = {"in": split_words(value)}
            elif kind == "boolean":
                filters[definition["name"]] = {"eq": value}
            else:
                filters[definition["name"]] = value  # {"min": …, "max": …}
        return filters

    def add_subscription_errors(self, error: ValidationError) -> None:
        put_service_errors(self, error, {"attribute_filters": FILTER_PREFIX})


def filter_field(definition: dict) -> forms.Field | None:
    """One attribute filter's input: the choices to accept (enum), words (text), a range (number,
    range), yes or no (boolean)."""
    label = label_of(definition)
    kind = definition["type"]
    if kind == "enum":
        return forms.MultipleChoiceField(
            label=f"{label}: only these",
            choices=enum_field_choices(definition),
            required=False,
            widget=forms.SelectMultiple(attrs={"size": 6}),
            help_text="None chosen: any.",
        )
    if kind == "text":
        return forms.CharField(
            label=f"{label}: only these", required=False, max_length=500, help_text="Separated by commas."
        )
    if kind in ("number", "range"):
        return RangeField(label=f"{label}: between", required=False, help_text="Either end may stay empty.")
    if kind == "boolean":
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=[(UNSPECIFIED, "Any"), ("true", "Only yes"), ("false", "Only no")],
        )
    return None


def filter_initial(schema: list[dict], filters: dict[str, Any]) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for definition in schema:
        rule = filters.get(definition["name"])
        if not rule:
            continue
        name = FILTER_PREFIX + definition["name"]
        if "in" in rule:
            initial[name] = rule["in"] if definition["type"] == "enum" else ", ".join(map(str, rule["in"]))
        elif "eq" in rule:
            initial[name] = "true" if rule["eq"] else "false"
        else:
            initial[name] = rule
    return initial


def subscription_initial(subscription: Subscription) -> dict[str, Any]:
    return {
        "name": subscription.name,
        "categories": list(subscription.categories.all()),
        "regions": list(subscription.regions.all()),
        "keywords": ", ".join(subscription.keywords),
        "language": subscription.language,
        "min_budget": subscription.min_budget,
        "min_budget_currency": subscription.min_budget_currency,
        "daily_cap": subscription.daily_cap,
    }


# The inbox -----------------------------------------------------------------------------------


class InboxFilterForm(forms.Form):
    """The inbox's filters, as the API's (status, category with its descendants, since) and
    whether the vendor passed."""

    status = forms.ChoiceField(label="Status", required=False)
    category = forms.TypedChoiceField(label="Category", coerce=int, required=False, empty_value=None)
    since = forms.DateField(label="Delivered since", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    passed = forms.ChoiceField(
        label="Passed",
        required=False,
        choices=[("", "Passed or not"), ("no", "Not passed"), ("yes", "Passed")],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [("", "Any status"), *Intent.Status.choices]
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", "Any category"), *category_choices()]


def offer_field(definition: dict) -> forms.Field:
    """What a vendor offers for one attribute: one value (a range takes one number, an enum one
    choice), none required."""
    label = label_of(definition)
    kind = definition["type"]
    if kind == "enum":
        return forms.ChoiceField(
            label=label, required=False, choices=[(UNSPECIFIED, "Not stated"), *enum_field_choices(definition)]
        )
    if kind in ("number", "range"):
        return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    field = attribute_field({**definition, "required": False, "compare": None, "unit": None, "label": label})
    if isinstance(field, forms.ChoiceField):
        field.choices = [(UNSPECIFIED, "Not stated"), *list(field.choices)[1:]]  # type: ignore[arg-type]
    return field


class OfferForm(AccessibleForm):
    """An offer (a bid) or its revision: what the API's ``BidInput`` takes, with one input per
    attribute of the request's category for what the vendor offers."""

    amount = forms.DecimalField(
        label="Price",
        max_digits=MAX_AMOUNT_DIGITS,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.CharField(label="Currency", max_length=3, min_length=3)
    message = forms.CharField(
        label="Your offer in words",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What you offer, what is included; she reads it beside your price.",
    )

    def __init__(self, *args: Any, intent: Intent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = category_schema(intent.category)
        for definition in self.schema:
            self.fields[OFFER_PREFIX + definition["name"]] = offer_field(definition)
        if intent.currency:
            self.fields["currency"].initial = intent.currency

    def attribute_fields(self) -> list[forms.BoundField]:
        return [self[OFFER_PREFIX + d["name"]] for d in self.schema]

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].upper()

    def offered_attributes(self) -> dict[str, Any]:
        return {
            d["name"]: self.cleaned_data[OFFER_PREFIX + d["name"]]
            for d in self.schema
            if self.cleaned_data.get(OFFER_PREFIX + d["name"]) not in (None, "", [])
        }

    def add_offer_errors(self, error: ValidationError) -> None:
        put_service_errors(self, error, {"offered_attributes": OFFER_PREFIX})


class PhotoForm(AccessibleForm):
    """A photo of what the offer is (``vendors.photos.add_photo`` checks the file: size, type,
    pixels)."""

    photo = forms.FileField(
        label="Add a photo",
        help_text=f"JPEG, PNG or WebP; at most {BidPhoto.MAX_PER_BID} per offer. She sees them beside your price.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


class PassForm(AccessibleForm):
    reason = forms.ChoiceField(
        label="Why you pass",
        required=False,
        choices=[("", "Rather not say"), *Delivery.PassReason.choices],
        help_text="She sees how many vendors passed for each reason, never who.",
    )


class MessageForm(AccessibleForm):
    body = forms.CharField(
        label="Message to the customer",
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Up to {MAX_BODY:,} characters. She reads it under your business's name.",
    )


class TermsAnswerForm(AccessibleForm):
    answer = forms.ChoiceField(
        label="Your answer to her terms", choices=AgreementAnswer.Answer.choices, widget=forms.RadioSelect
    )
    agreement = forms.ChoiceField(
        label="The agreement you propose instead", required=False, help_text="Only with “propose”."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.roster = {f"{a.code}:{a.version}": a for a in agreement_roster()}
        cast(forms.ChoiceField, self.fields["agreement"]).choices = [
            ("", "Choose an agreement"),
            *[(key, a.title) for key, a in self.roster.items()],
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("answer") == AgreementAnswer.Answer.PROPOSE and not cleaned.get("agreement"):
            self.add_error("agreement", "Choose the agreement you propose.")
        return cleaned

    def proposal(self) -> tuple[str | None, int | None]:
        key = self.cleaned_data.get("agreement")
        if self.cleaned_data.get("answer") != AgreementAnswer.Answer.PROPOSE or not key:
            return None, None
        agreement = self.roster[key]
        return agreement.code, agreement.version


class OutcomeForm(AccessibleForm):
    outcome = forms.ChoiceField(label="How did the deal end?", choices=DealOutcome.Outcome.choices)
    reason = forms.CharField(
        label="Why it fell through",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when it fell through.",
    )
