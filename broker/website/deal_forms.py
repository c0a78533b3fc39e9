"""The website's forms for the deal: declining, countering and closing with a reason, and saying
how a deal ended. The rules are the deal's (``vendors.deal``); these only collect her answer."""

from __future__ import annotations

from django import forms

from broker.website.forms import AccessibleForm
from intents.models import Intent
from vendors.deal import CUSTOMER_CLOSE_REASONS, CUSTOMER_DECLINE_REASONS, MAX_NOTE, MAX_REASON
from vendors.models import Bid, DealOutcome


class DeclineForm(AccessibleForm):
    reason = forms.ChoiceField(
        label="Why are you declining it?",
        help_text="The vendor is told the reason, never anything else about you.",
        choices=[(value, label) for value, label in Bid.DeclineReason.choices if value in CUSTOMER_DECLINE_REASONS],
    )


class WithdrawForm(AccessibleForm):
    reason = forms.ChoiceField(
        label="Why are you withdrawing it?",
        help_text="The vendors who have it are told the reason.",
        choices=[(value, label) for value, label in Intent.CloseReason.choices if value in CUSTOMER_CLOSE_REASONS],
    )


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
