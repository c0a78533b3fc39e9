"""Money: a decimal amount with an ISO 4217 currency code (checked against ``pycountry``)."""

from __future__ import annotations

import copy
from decimal import Decimal

import pycountry
from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, parse_pattern
from django.core.exceptions import ValidationError

DEFAULT_LOCALE = "en_GB"


def clean_currency(code: str, *, field: str = "currency") -> str:
    code = (code or "").strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValidationError({field: "Enter an ISO 4217 currency code such as GBP or EUR."})
    return code


def currency_choices() -> list[tuple[str, str]]:
    return sorted((c.alpha_3, f"{c.alpha_3} — {c.name}") for c in pycountry.currencies)


def format_money(amount: Decimal | int | float | str, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """An amount for people, in the locale's way: "£5,213" for a whole amount in en_GB (no
    ".00"), "£5,213.50" when there are pence. An unknown locale falls back to en_GB."""
    try:
        babel_locale = Locale.parse(locale.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        babel_locale = Locale.parse(DEFAULT_LOCALE)
    value = Decimal(str(amount))
    if value == value.to_integral_value():
        pattern = copy.copy(parse_pattern(babel_locale.currency_formats["standard"]))
        pattern.frac_prec = (0, 0)
        return str(pattern.apply(value, babel_locale, currency=currency, currency_digits=False))
    return format_currency(value, currency, locale=babel_locale)
