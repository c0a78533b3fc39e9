"""Website forms. The request form is built from the chosen category's attribute schema."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils import timezone

from broker.core.language import DEFAULT_LANGUAGE, DETECT, REQUEST_LANGUAGES, detect_language
from broker.core.money import currency_choices
from intents.attribute_fields import attribute_field
from intents.models import AUDIENCE_MAX_VENDORS, MAX_DETAILS, Agreement, Category, Intent, Notification, Region
from intents.selectors import agreement_roster
from intents.taxonomy import category_choices, category_schema
from intents.terms import describe_clauses
from moderation.models import MAX_TEXT, Report
from vendors.models import Vendor

ATTRIBUTE_PREFIX = "attr_"


def country_choices() -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in Region.objects.filter(kind=Region.Kind.COUNTRY).order_by("name")]


class AccessibleForm(forms.Form):
    """Inputs with errors say so to assistive technology, pointing at their messages."""

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_errors()

    def mark_errors(self) -> None:
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}-errors"


class ChooseForm(AccessibleForm):
    """Step one: what kind of thing, and in which country."""

    category = forms.TypedChoiceField(coerce=int, label="What are you looking for?")
    country = forms.ChoiceField(label="Country")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", "Choose a category"), *category_choices()]
        cast(forms.ChoiceField, self.fields["country"]).choices = country_choices()
        self.fields["country"].initial = "GB"

    def clean_category(self) -> Category:
        category = Category.objects.filter(pk=self.cleaned_data["category"]).first()
        if category is None:
            raise forms.ValidationError("Choose a category from the list.")
        return category

    def clean_country(self) -> Region:
        return Region.objects.get(code=self.cleaned_data["country"], kind=Region.Kind.COUNTRY)


def details_field() -> forms.CharField:
    """The free text of a request, as posted and as amended."""
    return forms.CharField(
        required=False,
        max_length=MAX_DETAILS,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Anything else vendors should know",
        help_text=f"Up to {MAX_DETAILS:,} characters.",
    )


class AttributesForm(AccessibleForm):
    """A form with one input per attribute of a category's schema, named ``attr_<name>``; the
    values are checked by the service against the schema, and its messages are put back next to
    the inputs (``add_service_errors``)."""

    def add_attribute_fields(self, category: Category, country: str) -> None:
        self.schema = category_schema(category)
        for definition in self.schema:
            self.fields[ATTRIBUTE_PREFIX + definition["name"]] = attribute_field(definition, country)

    def attribute_fields(self):
        return [self[ATTRIBUTE_PREFIX + d["name"]] for d in self.schema]

    def attribute_values(self) -> dict:
        attributes = {}
        for definition in self.schema:
            value = self.cleaned_data.get(ATTRIBUTE_PREFIX + definition["name"])
            if value in (None, "", []):
                continue  # an attribute she left empty must not exclude any vendor
            attributes[definition["name"]] = value
        return attributes

    def add_service_errors(self, message_dict: dict[str, list[str]]) -> None:
        """Put the service's messages next to the inputs they are about."""
        for key, messages in message_dict.items():
            if key.startswith("attributes."):
                field = ATTRIBUTE_PREFIX + key.removeprefix("attributes.")
            elif key == "expires_at":
                field = "expires_on"
            elif key == "terms":
                field = "agreement"
            elif key == "audience_include_new":
                field = "audience_new"
            else:
                field = key
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        self.mark_errors()


INCLUDE_NEW, LEAVE_OUT_NEW = "include", "leave_out"


class AudienceForm(AccessibleForm):
    """Who hears her request (docs/matching.md): the most vendors, the least rating, new vendors,
    and the vendors of her history she invites or leaves out. The service checks them again."""

    audience_max = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=AUDIENCE_MAX_VENDORS,
        label="Reach at most this many vendors",
        help_text=(
            f"From 1 to {AUDIENCE_MAX_VENDORS}. Leave it empty to reach every vendor that matches. "
            "With a limit, the vendors you invite come first, then those whose interests fit your request "
            "most closely and the best rated; the others are not told about it."
        ),
        error_messages={
            "invalid": "Enter a whole number of vendors, such as 5.",
            "min_value": f"Choose from 1 to {AUDIENCE_MAX_VENDORS} vendors, or leave it empty for no limit.",
            "max_value": f"Choose from 1 to {AUDIENCE_MAX_VENDORS} vendors, or leave it empty for no limit.",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": AUDIENCE_MAX_VENDORS}),
    )
    audience_min_rating = forms.DecimalField(
        required=False,
        min_value=1,
        max_value=5,
        max_digits=3,
        decimal_places=1,
        label="Lowest rating (stars)",
        help_text="A vendor's score from its customers' ratings (the one shown beside its offers), "
        "from 1.0 to 5.0. Leave it empty to allow any rating.",
        error_messages={
            "invalid": "Enter a number of stars such as 4 or 4.5.",
            "min_value": "Choose at least 1 star.",
            "max_value": "Choose at most 5 stars.",
            "max_decimal_places": "Use at most one decimal, such as 4.5.",
            "max_digits": "Enter a number of stars such as 4 or 4.5.",
        },
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "min": 1, "max": 5, "step": "0.1"}),
    )
    audience_new = forms.ChoiceField(
        required=False,  # a form posted without it: new vendors included, as shown
        label="New vendors",
        choices=[(INCLUDE_NEW, "May hear it"), (LEAVE_OUT_NEW, "Leave them out")],
        initial=INCLUDE_NEW,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose whether new vendors may hear it."},
    )
    invite = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        label="Invite vendors you have dealt with",
        help_text=(
            "They hear this request even if it is outside what they usually ask for, "
            "as long as they sell in this category."
        ),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "You can invite only vendors you have dealt with: choose from the list."},
    )
    exclude = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        label="Leave out vendors",
        help_text="They are not told about this request. No vendor learns who else was invited or left out.",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose the vendors to leave out from the list."},
    )

    def add_audience_fields(self, history: list[Vendor]) -> None:
        """Offer the vendors of her history (``vendors.selectors.history_vendors``) by name."""
        self.history = history
        choices = [(vendor.pk, vendor.name) for vendor in history]
        cast(forms.ChoiceField, self.fields["invite"]).choices = choices
        cast(forms.ChoiceField, self.fields["exclude"]).choices = choices
        self.fields[
            "audience_new"
        ].label = f"New vendors (fewer than {settings.INTENTCAST['NEW_VENDOR_MIN_RATINGS']} rated deals)"

    def audience_fields(self):
        return [self[name] for name in ("audience_max", "audience_min_rating", "audience_new")]

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        both = set(cleaned.get("invite") or []) & set(cleaned.get("exclude") or [])
        if both:
            self.add_error("exclude", "A vendor cannot be both invited and left out.")
        return cleaned

    def audience_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "audience_max": data.get("audience_max"),
            "audience_min_rating": data.get("audience_min_rating"),
            "audience_include_new": data.get("audience_new") != LEAVE_OUT_NEW,
            "invite": data.get("invite") or [],
            "exclude": data.get("exclude") or [],
        }

    def audience_initial(self, intent: Intent, choices: dict[int, str]) -> dict:
        return {
            "audience_max": intent.audience_max,
            "audience_min_rating": intent.audience_min_rating,
            "audience_new": INCLUDE_NEW if intent.audience_include_new else LEAVE_OUT_NEW,
            "invite": [v for v, kind in choices.items() if kind == "invite"],
            "exclude": [v for v, kind in choices.items() if kind == "exclude"],
        }


def attribute_initial(definition: dict, value: object) -> object:
    """A stored attribute value as its input's initial value."""
    if definition["type"] == "boolean" and isinstance(value, bool):
        return "true" if value else "false"
    return value


class IntentForm(AttributesForm, AudienceForm):
    """Step two: the request itself. Attribute inputs are named ``attr_<name>``; the values are
    checked by ``intents.services.publish_intent`` against the schema, and its messages are put
    back next to the inputs."""

    title = forms.CharField(max_length=200, label="In a few words, what do you want?")
    details = details_field()
    language = forms.ChoiceField(
        label="Language of your request",
        choices=[(DETECT, "Detect from the text"), *REQUEST_LANGUAGES],
        initial=DEFAULT_LANGUAGE,
        required=False,  # a form posted without it: the browser's language, as shown
    )
    region = forms.ChoiceField(label="Where")
    budget_max = forms.DecimalField(
        required=False,
        max_digits=14,
        decimal_places=2,
        label="Budget, at most",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(initial="GBP")
    expires_on = forms.DateField(
        label="Open for bids until", widget=forms.DateInput(attrs={"type": "date"}), required=False
    )
    format = forms.ChoiceField(
        label="How vendors compete",
        choices=Intent.Format.choices,
        initial=Intent.Format.OPEN,
        required=False,  # a form posted without it: open
        widget=forms.RadioSelect,
    )
    sealed_until = forms.DateTimeField(
        label="Open the sealed offers on",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Sealed offers only: you see them all together at this time, and accept one after it.",
    )
    agreement = forms.ModelChoiceField(
        queryset=Agreement.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        required=False,  # a form posted without it: the agreement preselected for her
        label="Your terms",
        error_messages={"invalid_choice": "Choose one of the agreements listed."},
    )

    def __init__(
        self,
        *args,
        category: Category,
        country: Region,
        language: str = DEFAULT_LANGUAGE,
        history: list[Vendor] | None = None,
        agreement: Agreement | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.add_audience_fields(history or [])
        agreements = cast(forms.ModelChoiceField, self.fields["agreement"])
        agreements.queryset = agreement_roster()
        self.remembered = agreement
        self.fields["agreement"].initial = agreement.pk if agreement is not None else None
        self.category = category
        self.country = country
        self.fields["language"].initial = language
        areas = Region.objects.filter(lft__gt=country.lft, rgt__lt=country.rgt).order_by("name")
        cast(forms.ChoiceField, self.fields["region"]).choices = [(country.code, f"Anywhere in {country.name}")] + [
            (r.code, r.name) for r in areas
        ]
        currencies = currency_choices(country.code)  # the region's own first, then the common ones
        cast(forms.ChoiceField, self.fields["currency"]).choices = currencies
        self.fields["currency"].initial = currencies[0][0]
        self.fields["expires_on"].initial = (timezone.localdate() + timedelta(days=14)).isoformat()
        self.add_attribute_fields(category, country.code)

    def agreement_cards(self) -> list[dict]:
        """The roster as radio cards: each agreement with its summary and clauses, and whether it
        is the one chosen (her remembered default on a new form)."""
        bound = self["agreement"]
        chosen = str(bound.value() or "")
        return [
            {
                "agreement": agreement,
                "id": f"{bound.auto_id}_{index}",
                "checked": str(agreement.pk) == chosen,
                "clauses": describe_clauses(agreement.clauses),
            }
            for index, agreement in enumerate(cast(forms.ModelChoiceField, self.fields["agreement"]).queryset or [])
        ]

    def publish_arguments(self) -> dict:
        data = self.cleaned_data
        attributes = self.attribute_values()
        expires_at = None
        if data.get("expires_on"):
            expires_at = timezone.make_aware(
                datetime.combine(data["expires_on"], datetime.max.time().replace(microsecond=0))
            )
        language = data.get("language") or self.fields["language"].initial or DEFAULT_LANGUAGE
        if language == DETECT:
            language = detect_language(f"{data['title']}\n{data.get('details', '')}")
        return {
            "title": data["title"],
            "details": data.get("details", ""),
            "language": language,
            "category": self.category,
            "region": Region.objects.filter(code=data["region"]).first(),
            "attributes": attributes,
            "budget_max": data.get("budget_max"),
            "currency": data.get("currency") or "",
            "expires_at": expires_at,
            "format": data.get("format") or Intent.Format.OPEN,
            "sealed_until": data.get("sealed_until") if data.get("format") == Intent.Format.SEALED else None,
            "agreement": data.get("agreement") or self.remembered,
            **self.audience_arguments(),
        }


class AmendForm(AttributesForm, AudienceForm):
    """She changes an open request: its details, its attributes, its budget (in its currency),
    and who hears it."""

    details = details_field()
    budget_max = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        label="Budget, at most",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def __init__(
        self,
        *args,
        intent: Intent,
        history: list[Vendor] | None = None,
        choices: dict[int, str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.intent = intent
        self.add_attribute_fields(intent.category, intent.region.code)
        self.add_audience_fields(history or [])
        self.initial = {
            "details": intent.details,
            "budget_max": intent.budget_max,
            **self.audience_initial(intent, choices or {}),
        }
        for definition in self.schema:
            value = intent.attributes.get(definition["name"])
            if value is not None:
                self.initial[ATTRIBUTE_PREFIX + definition["name"]] = attribute_initial(definition, value)
        if intent.currency:
            self.fields["budget_max"].label = f"Budget, at most ({intent.currency})"

    def amend_arguments(self) -> dict:
        audience = self.audience_arguments()
        return {
            "details": self.cleaned_data.get("details", ""),
            "attributes": self.attribute_values(),
            "budget_max": self.cleaned_data.get("budget_max"),
            "audience": {key: value for key, value in audience.items() if key.startswith("audience_")},
            "invite": audience["invite"],
            "exclude": audience["exclude"],
        }


class MessageForm(AccessibleForm):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, label="Your message")


class RatingForm(AccessibleForm):
    score = forms.TypedChoiceField(
        coerce=int,
        choices=[("", "Choose a score"), *[(n, f"{n} / 5") for n in range(5, 0, -1)]],
        label="How was the deal?",
    )
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class EraseForm(AccessibleForm):
    confirm = forms.CharField(label='Type "erase my account" to confirm')

    def clean_confirm(self) -> str:
        if self.cleaned_data["confirm"].strip().lower() != "erase my account":
            raise forms.ValidationError('Type exactly "erase my account".')
        return self.cleaned_data["confirm"]


class RevealForm(AccessibleForm):
    name = forms.CharField(max_length=200, label="Your name")
    email = forms.EmailField(label="Email")
    phone = forms.CharField(max_length=40, required=False, label="Phone (optional)")


class VendorNoteForm(AccessibleForm):
    body = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Your notes",
        help_text="Only you see these; the vendor never does. Leave empty to delete them.",
    )


class ReportForm(AccessibleForm):
    """She reports an offer, a message or a vendor: a reason from the list, and her words."""

    reason = forms.ChoiceField(
        label="What is wrong?",
        choices=Report.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what is wrong.", "invalid_choice": "Choose a reason from the list."},
    )
    text = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Tell the moderators more",
        help_text="What happened, and when. Required if you choose “Something else”. The vendor is told it was "
        "reported and the outcome, never your words or who you are.",
        error_messages={"max_length": f"Keep it to {MAX_TEXT:,} characters at most."},
    )


class NotificationSettingsForm(AccessibleForm):
    """One checkbox per kind of notification: an email as well as the entry on the site."""

    def __init__(self, *args, choices: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Notification.Kind.choices:
            self.fields[kind] = forms.BooleanField(required=False, initial=choices.get(kind, True), label=label)


class PersonalDataChoice:
    """What she chose when warned of personal data in her request: the two buttons' values."""

    FIELD = "personal_data"
    REDACT = "redact"
    POST_ANYWAY = "post_anyway"
