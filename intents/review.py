"""Review before casting: the rules a moderator edits in admin (``ReviewRule``) that hold a new
request for review instead of casting it. A held request is ``in review``: nothing is recorded in
the outbox, so no vendor hears of it, until a moderator releases it (``vendors.deal.release_intent``,
which casts it as any other) or removes it. See docs/moderation.md."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from broker.core.money import clean_currency
from intents.models import Intent, ReviewRule
from intents.taxonomy_cache import remembered

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Kind = ReviewRule.Kind


def clean_rule(*, kind: str, text: str, count: int | None, amount: Decimal | None, currency: str) -> dict[str, Any]:
    """Check that a rule says what its kind needs (and nothing it cannot use); one
    ``ValidationError`` keyed by field."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {"text": "", "count": None, "amount": None, "currency": ""}
    text = (text or "").strip()
    if kind == Kind.WORD:
        if not text or not re.fullmatch(r"[\w'-]+( [\w'-]+)*", text):
            errors["text"] = "Enter a word or a few words (letters, digits, hyphens)."
        cleaned["text"] = text
    elif kind == Kind.PATTERN:
        try:
            re.compile(text)
        except re.error as error:
            errors["text"] = f"Not a valid regular expression: {error}."
        if not text:
            errors["text"] = "Enter a regular expression."
        cleaned["text"] = text
    elif kind == Kind.FIRST_REQUESTS:
        if count is None or count < 1:
            errors["count"] = "Enter how many of a customer's first requests are held (1 or more)."
        cleaned["count"] = count
    elif kind == Kind.BUDGET_ABOVE:
        if amount is None or amount < 0:
            errors["amount"] = "Enter the amount above which a request is held."
        try:
            cleaned["currency"] = clean_currency(currency)
        except ValidationError as error:
            errors.update({key: " ".join(value) for key, value in error.message_dict.items()})
        cleaned["amount"] = amount
    else:
        errors["kind"] = "Choose a kind of rule."
    if errors:
        raise ValidationError(errors)
    return cleaned


def _word(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(text)}(?!\w)", re.IGNORECASE)


def active_rules() -> tuple[ReviewRule, ...]:
    """The active rules, remembered by the process (``intents.taxonomy_cache``: forgotten when a
    rule is saved or deleted here, and after ``TAXONOMY_CACHE_SECONDS`` in every other process),
    as every new request reads them. Read-only, as every caller shares them."""
    return remembered(("review_rules",), lambda: tuple(ReviewRule.objects.filter(active=True)))


def hold_reasons(*, customer: User, title: str, details: str, budget_max: Decimal | None, currency: str) -> list[str]:
    """Which active rules hold this new request (before it is saved), each said for moderators.
    Empty: cast it."""
    reasons = []
    words = f"{title}\n{details}"
    earlier: int | None = None
    for rule in active_rules():
        if rule.kind == Kind.WORD and rule.text and _word(rule.text).search(words):
            reasons.append(f"blocked word “{rule.text}”")
        elif rule.kind == Kind.PATTERN and rule.text:
            try:
                if re.search(rule.text, words, re.IGNORECASE):
                    reasons.append(f"pattern “{rule.text}”")
            except re.error:
                continue  # saved before validation existed: ignored rather than failing her request
        elif rule.kind == Kind.FIRST_REQUESTS and rule.count:
            if earlier is None:
                earlier = Intent.objects.filter(customer=customer).count()
            if earlier < rule.count:
                reasons.append(f"one of the customer's first {rule.count} requests")
        elif (
            rule.kind == Kind.BUDGET_ABOVE
            and rule.amount is not None
            and budget_max is not None
            and currency == rule.currency
            and budget_max > rule.amount
        ):
            reasons.append(f"budget above {rule.amount} {rule.currency}")
    return reasons
