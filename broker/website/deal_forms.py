"""The website's forms for the deal: declining, countering and closing with a reason, and saying
how a deal ended. The rules are the deal's (``vendors.deal``); these only collect her answer."""

from __future__ import annotations

from typing import Any

from django import forms

from broker.website.forms import AccessibleForm
from intents.attributes import enum_choices
from intents.comparison import format_value, label_of
from intents.models import Intent
from intents.taxonomy import category_schema
from vendors.deal import CUSTOMER_CLOSE_REASONS, CUSTOMER_DECLINE_REASONS, MAX_NOTE, MAX_REASON
from vendors.models import Bid, DealOutcome

WANT_PREFIX = "want_"


class DeclineForm(AccessibleForm):
    reason = forms.ChoiceField(
        label="Why are you declining it?",
        help_text="The vendor is told the reason, never anything else about you.",
        choices=[(value, label) for value, label in Bid.DeclineReason.choices if value in CUSTOMER_DECLINE_REASONS],
    )


class ProposalResponseForm(AccessibleForm):
    """Her answer to the alternative agreement a vendor proposed."""

    response = forms.ChoiceField(
        label="Your answer",
        choices=[("accept", "Accept it for this vendor"), ("refuse", "Refuse it and keep your terms")],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose to accept or to refuse the proposal."},
    )


class WithdrawForm(AccessibleForm):
    reason = forms.ChoiceField(
        label="Why are you withdrawing it?",
        help_text="The vendors who have it are told the reason.",
        choices=[(value, label) for value, label in Intent.CloseReason.choices if value in CUSTOMER_CLOSE_REASONS],
    )


def offer_value_field(definition: dict[str, Any], offered: Any, country: str) -> forms.Field:
    """An input for one value she would like instead of what the vendor offered; empty keeps it."""
    shown = format_value(definition, offered, country=country)
    label = f"{label_of(definition)} (offered: {shown})"
    kind = definition["type"]
    if kind == "enum":
        choices = [(c, c) for c in enum_choices(definition) if c != offered]
        return forms.ChoiceField(label=label, required=False, choices=[("", "Keep as offered"), *choices])
    if kind == "boolean":
        return forms.ChoiceField(
            label=label, required=False, choices=[("", "Keep as offered"), ("true", "Yes"), ("false", "No")]
        )
    widget = forms.TextInput(attrs={"inputmode": "decimal"} if kind in ("number", "range") else {})
    return forms.CharField(label=label, required=False, max_length=200, widget=widget, help_text="Empty: keep it.")


class CounterForm(AccessibleForm):
    target_amount = forms.DecimalField(
        label="The price you would accept",
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label="A note to the vendor",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: a lower price, another colour, a service before delivery.",
    )

    def __init__(self, *args: Any, bid: Bid, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        intent = bid.intent
        self.offered = bid.offered_attributes
        self.changeable = [d for d in category_schema(intent.category) if d["name"] in self.offered]
        for definition in self.changeable:
            self.fields[WANT_PREFIX + definition["name"]] = offer_value_field(
                definition, self.offered[definition["name"]], intent.region.code
            )

    def change_fields(self) -> list[Any]:
        return [self[WANT_PREFIX + d["name"]] for d in self.changeable]

    def counter_arguments(self) -> dict[str, Any]:
        wanted = {
            d["name"]: self.cleaned_data[WANT_PREFIX + d["name"]]
            for d in self.changeable
            if self.cleaned_data.get(WANT_PREFIX + d["name"]) not in (None, "")
        }
        return {
            "target_amount": self.cleaned_data.get("target_amount"),
            "note": self.cleaned_data.get("note", ""),
            "target_attributes": wanted,
        }

    def add_service_errors(self, message_dict: dict[str, list[str]]) -> None:
        for key, messages in message_dict.items():
            field = (
                WANT_PREFIX + key.removeprefix("target_attributes.") if key.startswith("target_attributes.") else key
            )
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        self.mark_errors()


class OutcomeForm(AccessibleForm):
    outcome = forms.ChoiceField(
        label="How did the deal end?",
        choices=[("", "Choose…"), *DealOutcome.Outcome.choices],
    )
    reason = forms.CharField(
        label="What happened? (needed if it fell through)",
        required=False,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
