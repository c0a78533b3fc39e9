"""Money: a decimal amount with an ISO 4217 currency code (checked against ``pycountry``)."""

from __future__ import annotations

import pycountry
from django.core.exceptions import ValidationError


def clean_currency(code: str, *, field: str = "currency") -> str:
    code = (code or "").strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValidationError({field: "Enter an ISO 4217 currency code such as GBP or EUR."})
    return code


def currency_choices() -> list[tuple[str, str]]:
    return sorted((c.alpha_3, f"{c.alpha_3} — {c.name}") for c in pycountry.currencies)
