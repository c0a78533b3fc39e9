"""The vendor area's forms. They parse; the rules are the vendors services' (``clean_profile``,
``clean_key_name``, ``webhooks.register_endpoint`` with its URL and address checks): a
``ValidationError`` from a service lands next to its field (``add_service_errors``)."""

from __future__ import annotations

from typing import cast

from allauth.account.forms import SignupForm
from django import forms
from django.core.exceptions import ValidationError

from intents.models import Category, Region
from intents.taxonomy import category_choices
from vendors.models import VendorEvent, VendorMembership
from vendors.team import DESCRIPTION_MAX, NAME_MAX, clean_profile


class Accessible:
    """Inputs with errors say so to assistive technology, pointing at their messages."""

    def mark_errors(self) -> None:
        form = cast(forms.Form, self)
        for name in form.errors:
            if name in form.fields:
                attrs = form.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{form[name].auto_id}-errors"

    def add_service_errors(self, error: ValidationError) -> None:
        """A service's ``ValidationError`` next to the field it names (else above the form)."""
        form = cast(forms.Form, self)
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
        self.mark_errors()


class AccessibleForm(Accessible, forms.Form):
    def full_clean(self) -> None:
        super().full_clean()
        self.mark_errors()


class BusinessFields(forms.Form):
    business_name = forms.CharField(label="Business name", max_length=NAME_MAX)
    website = forms.CharField(
        label="Website",
        required=False,
        max_length=300,
        help_text="Optional. Shown to customers on your profile.",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    description = forms.CharField(
        label="About your business",
        required=False,
        max_length=DESCRIPTION_MAX,
        help_text=f"A few lines customers see on your profile (at most {DESCRIPTION_MAX} characters).",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    categories = forms.TypedMultipleChoiceField(
        label="What you sell", coerce=int, help_text="Hold Ctrl (⌘ on a Mac) to choose several."
    )
    regions = forms.MultipleChoiceField(label="Where you sell", help_text="The countries you serve.")


class VendorSignupForm(Accessible, SignupForm):
    """allauth's signup (email, verified by allauth; password) and the business's own fields."""

    business_name = BusinessFields.base_fields["business_name"]
    website = BusinessFields.base_fields["website"]
    description = BusinessFields.base_fields["description"]
    categories = BusinessFields.base_fields["categories"]
    regions = BusinessFields.base_fields["regions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "Contact email"
        self.fields["email"].help_text = "Your login and where we write to you; we send a link to confirm it."
        cast(forms.ChoiceField, self.fields["categories"]).choices = category_choices()
        cast(forms.ChoiceField, self.fields["regions"]).choices = [
            (r.code, r.name) for r in Region.objects.filter(kind=Region.Kind.COUNTRY).order_by("name")
        ]
        self.order_fields(["business_name", "email", "password1", "password2", "website", "description"])

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_errors()

    def clean(self):
        cleaned = super().clean()
        try:
            self.profile = clean_profile(
                name=cleaned.get("business_name", ""),
                website=cleaned.get("website", ""),
                description=cleaned.get("description", ""),
                categories=Category.objects.filter(pk__in=cleaned.get("categories") or []),
                regions=Region.objects.filter(code__in=cleaned.get("regions") or []),
            )
        except ValidationError as error:
            renamed = {("business_name" if k == "name" else k): v for k, v in error.message_dict.items()}
            for name, messages in renamed.items():
                if name not in self.errors:
                    self.add_error(name, messages)
        return cleaned


class ApiKeyForm(AccessibleForm):
    name = forms.CharField(
        label="Key name",
        max_length=200,  # the service says the real limit, next to the field
        help_text="What uses it, e.g. “dealer management system”. You see it beside the key's prefix.",
    )


class WebhookForm(AccessibleForm):
    url = forms.URLField(
        label="Endpoint URL",
        max_length=500,
        assume_scheme="https",
        help_text="An https address on the public internet that answers 2xx to our POST.",
    )
    events = forms.MultipleChoiceField(
        label="Events",
        required=False,
        choices=VendorEvent.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen means every event.",
    )


class InviteForm(AccessibleForm):
    email = forms.EmailField(label="Email of the person to invite")
    role = forms.ChoiceField(
        label="Role",
        choices=VendorMembership.Role.choices,
        initial=VendorMembership.Role.MEMBER,
        help_text="Owners also manage the team; members manage keys and webhooks.",
    )


class NewLoginForm(AccessibleForm):
    """A vendor login created from an invitation: its email is the invited one."""

    password1 = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label="Password (again)", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned
