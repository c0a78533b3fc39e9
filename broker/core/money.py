"""Money: a decimal amount with an ISO 4217 currency code (checked against ``pycountry``)."""

from __future__ import annotations

import copy
from decimal import Decimal
from functools import cache, lru_cache

import pycountry
from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_territory_currencies, parse_pattern
from django.core.exceptions import ValidationError

DEFAULT_LOCALE = "en_GB"


# ISO 4217 lists more than money people pay with. Not accepted: the codes for no currency and for
# testing (XXX, XTS), precious metals (XAU, XAG, XPD, XPT), the bond-market and accounting units
# (XBA, XBB, XBC, XBD, XDR, XSU, XUA, XAD), and the funds codes (BOV, CHE, CHW, CLF, COU, MXV, USN,
# UYI, UYW). Every other code pycountry knows is a currency in circulation, among them the X-codes
# that are real money: XAF, XCD, XCG, XOF, XPF.
NOT_IN_CIRCULATION = frozenset(
    {"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XAD"}
    | {"BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW"}
)
# Listed right after the region's own currency in a currency select.
COMMON_CURRENCIES = ("GBP", "EUR", "USD", "CHF", "CAD", "AUD", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK")


@cache
def circulating_currencies() -> dict[str, str]:
    """Code → name of every ISO 4217 currency in circulation, by code."""
    return {
        c.alpha_3: c.name
        for c in sorted(pycountry.currencies, key=lambda c: c.alpha_3)
        if c.alpha_3 not in NOT_IN_CIRCULATION
    }


def clean_currency(code: str, *, field: str = "currency") -> str:
    code = (code or "").strip().upper()
    if code not in circulating_currencies():
        raise ValidationError({field: "Enter the ISO 4217 code of a currency in circulation, such as GBP or EUR."})
    return code


def region_currencies(country_code: str) -> list[str]:
    """The currencies legal tender in a country (ISO 3166 alpha-2) today, per the CLDR (babel)."""
    try:
        codes = get_territory_currencies(country_code.upper(), tender=True)
    except (ValueError, TypeError):
        return []
    return [code for code in codes if code in circulating_currencies()]


def currency_choices(country_code: str = "") -> list[tuple[str, str]]:
    """Every currency in circulation: the country's own first, then the common ones, then the rest
    by code."""
    names = circulating_currencies()
    first = [*region_currencies(country_code)] if country_code else []
    first += [code for code in COMMON_CURRENCIES if code not in first]
    rest = [code for code in names if code not in first]
    return [(code, f"{code} — {names[code]}") for code in [*first, *rest]]


def format_money(amount: Decimal | int | float | str, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """An amount for people, in the locale's way: "£5,213" for a whole amount in en_GB (no
    ".00"), "£5,213.50" when there are pence. An unknown locale falls back to en_GB."""
    return _format_money(Decimal(str(amount)), currency, locale)


@lru_cache(maxsize=8192)
def _format_money(value: Decimal, currency: str, locale: str) -> str:
    # Remembered: a page of offers formats a few hundred amounts, many of them the same, and
    # Babel parses the locale and its pattern each time.
    try:
        babel_locale = Locale.parse(locale.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        babel_locale = Locale.parse(DEFAULT_LOCALE)
    if value == value.to_integral_value():
        pattern = copy.copy(parse_pattern(babel_locale.currency_formats["standard"]))
        pattern.frac_prec = (0, 0)
        return str(pattern.apply(value, babel_locale, currency=currency, currency_digits=False))
    return format_currency(value, currency, locale=babel_locale)
