"""Money for people (Babel) and the language of a request (Accept-Language, py3langid)."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from broker.core.language import detect_language, preferred_language
from broker.core.money import format_money


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "shown"),
    [
        (Decimal("5213"), "GBP", "en_GB", "£5,213"),
        (Decimal("5213.00"), "GBP", "en_GB", "£5,213"),
        (Decimal("5213.5"), "GBP", "en_GB", "£5,213.50"),
        (Decimal("0.99"), "GBP", "en_GB", "£0.99"),
        (4000, "EUR", "de_DE", "4.000\xa0€"),
        (Decimal("3750"), "GBP", "en-gb", "£3,750"),
        (Decimal("10"), "GBP", "not a locale", "£10"),
    ],
)
def test_format_money(amount, currency, locale, shown):
    assert format_money(amount, currency, locale) == shown


def test_money_filter():
    template = Template("{% load money %}{{ amount|money:currency }}|{{ none|money:currency }}")
    assert template.render(Context({"amount": Decimal("5213.00"), "currency": "GBP", "none": None})) == "£5,213|"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Szukam samochodu Toyota Yaris, srebrny", "pl"),
        ("Low-mileage Toyota Yaris, T3 or TR spec, silver with air conditioning", "en"),
        ("Suche einen gebrauchten Kleinwagen, silber, mit Klimaanlage", "de"),
        ("Je cherche une petite voiture d'occasion, couleur argent", "fr"),
        ("1.3 / 2006", "en"),
        ("", "en"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("pl-PL,pl;q=0.9,en-GB;q=0.8", "pl"),
        ("en-GB,en;q=0.9", "en"),
        ("xx-YY, de;q=0.5, fr;q=0.7", "fr"),
        ("de;q=0", "en"),
        ("nb-NO", "no"),
        ("", "en"),
        ("garbage;;q=x", "en"),
    ],
)
def test_preferred_language(header, language):
    assert preferred_language(header) == language
