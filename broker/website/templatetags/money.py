"""``{% load money %}`` then ``{{ amount|money:currency }}``: an amount for people ("£5,213"),
in the active language's locale (the site's, en-gb, unless a request chose another)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import translation

from broker.core.money import DEFAULT_LOCALE, format_money

register = template.Library()


@register.filter
def money(amount: Decimal | int | float | str | None, currency: str = "") -> str:
    if amount is None or amount == "":
        return ""
    if not currency:
        return str(amount)
    language = translation.get_language()
    locale = translation.to_locale(language) if language else DEFAULT_LOCALE
    return format_money(amount, currency, locale)
