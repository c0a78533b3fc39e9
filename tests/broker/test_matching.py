"""DESIGN.md's matching rules, one test each, against the indexed matcher."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from broker.pipeline.matching import match_intent
from tests.broker.reference import reference_match
from tests.factories import IntentFactory, VendorFactory
from vendors.models import Block, Delivery, Vendor
from vendors.services import save_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def yaris(customer, categories, regions):
    return IntentFactory(
        customer=customer,
        title="Low-mileage Toyota Yaris, T3 or TR spec",
        details="Silver, aircon, ideally 1.3 petrol, five doors. Hatchback preferred.",
        category=categories["cars"],
        region=regions["GB-LND"],
        attributes={"make": "Toyota", "trim": ["T3", "TR"], "mileage": 40000, "aircon": True, "doors": 5},
        budget_max=Decimal("4000"),
        currency="GBP",
    )


def subscribe(categories, regions, *, vendor=None, **data):
    vendor = vendor or VendorFactory()
    save_subscription(vendor=vendor, categories=categories, regions=regions, **data)
    return vendor


def matched(intent) -> set[int]:
    found = {m.vendor_id for m in match_intent(intent)}
    assert found == reference_match(intent)
    return found


def test_subscription_to_the_intents_category_matches(yaris, categories, regions):
    vendor = subscribe([categories["cars"]], [regions["GB"]])
    assert vendor.pk in matched(yaris)


def test_subscription_to_an_ancestor_category_covers_it(yaris, categories, regions):
    vendor = subscribe([categories["vehicles"]], [regions["GB"]])
    assert vendor.pk in matched(yaris)


def test_subscription_to_a_sibling_or_descendant_category_does_not_match(customer, categories, regions):
    vans = subscribe([categories["vans"]], [regions["GB"]])
    phones = subscribe([categories["phones"]], [regions["GB"]])
    vehicles_intent = IntentFactory(customer=customer, category=categories["vehicles"], region=regions["GB"])
    cars = subscribe([categories["cars"]], [regions["GB"]])
    car_intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"])
    assert vans.pk not in matched(car_intent) and phones.pk not in matched(car_intent)
    # A cars dealer does not hear of a request for vehicles in general.
    assert cars.pk not in matched(vehicles_intent)


def test_country_wide_vendor_gets_a_london_request(yaris, categories, regions):
    assert subscribe([categories["cars"]], [regions["GB"]]).pk in matched(yaris)


def test_london_vendor_gets_a_request_for_anywhere_in_gb(customer, categories, regions):
    london = subscribe([categories["cars"]], [regions["GB-LND"]])
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"])
    assert london.pk in matched(intent)


def test_manchester_vendor_does_not_get_a_london_request(yaris, categories, regions):
    assert subscribe([categories["cars"]], [regions["GB-MAN"]]).pk not in matched(yaris)


def test_vendor_in_another_country_does_not_match(yaris, categories, regions):
    assert subscribe([categories["cars"]], [regions["FR"]]).pk not in matched(yaris)


def test_keyword_must_occur_in_title_or_details(yaris, categories, regions):
    hit = subscribe([categories["cars"]], [regions["GB"]], keywords=["yaris"])
    miss = subscribe([categories["cars"]], [regions["GB"]], keywords=["corolla"])
    found = matched(yaris)
    assert hit.pk in found and miss.pk not in found


def test_keywords_are_case_and_inflection_insensitive(yaris, categories, regions):
    plural = subscribe([categories["cars"]], [regions["GB"]], keywords=["HATCHBACKS"])
    assert plural.pk in matched(yaris)


def test_keyword_phrase_needs_all_its_words(yaris, categories, regions):
    phrase = subscribe([categories["cars"]], [regions["GB"]], keywords=["silver petrol"])
    wrong = subscribe([categories["cars"]], [regions["GB"]], keywords=["silver diesel"])
    found = matched(yaris)
    assert phrase.pk in found and wrong.pk not in found


def test_keywords_in_the_intents_language(customer, categories, regions):
    german = subscribe([categories["cars"]], [regions["GB"]], keywords=["Kleinwagen"], language="de")
    intent = IntentFactory(
        customer=customer, title="Suche Kleinwagens", category=categories["cars"], region=regions["GB"], language="de"
    )
    assert german.pk in matched(intent)


def test_attribute_filter_value_set(yaris, categories, regions):
    toyota = subscribe([categories["cars"]], [regions["GB"]], attribute_filters={"make": {"in": ["toyota"]}})
    ford = subscribe([categories["cars"]], [regions["GB"]], attribute_filters={"make": {"in": ["Ford"]}})
    found = matched(yaris)
    assert toyota.pk in found and ford.pk not in found


def test_attribute_filter_numeric_range(yaris, categories, regions):
    low = subscribe([categories["cars"]], [regions["GB"]], attribute_filters={"mileage": {"max": 50000}})
    high = subscribe([categories["cars"]], [regions["GB"]], attribute_filters={"mileage": {"min": 60000}})
    found = matched(yaris)
    assert low.pk in found and high.pk not in found


def test_attribute_filter_boolean(yaris, categories, regions):
    wants_aircon = subscribe([categories["cars"]], [regions["GB"]], attribute_filters={"aircon": {"eq": True}})
    no_aircon = subscribe([categories["cars"]], [regions["GB"]], attribute_filters={"aircon": {"eq": False}})
    found = matched(yaris)
    assert wants_aircon.pk in found and no_aircon.pk not in found


def test_attribute_filter_multiple_choice_matches_any(yaris, categories, regions):
    tr_only = subscribe([categories["cars"]], [regions["GB"]], attribute_filters={"trim": {"in": ["TR"]}})
    assert tr_only.pk in matched(yaris)


def test_attribute_filter_overlaps_a_range_value(customer, categories, regions):
    recent = subscribe([categories["cars"]], [regions["GB"]], attribute_filters={"year": {"min": 2004}})
    old = subscribe([categories["cars"]], [regions["GB"]], attribute_filters={"year": {"max": 1999}})
    intent = IntentFactory(
        customer=customer,
        category=categories["cars"],
        region=regions["GB"],
        attributes={"year": {"min": 2003, "max": 2006}},
    )
    found = matched(intent)
    assert recent.pk in found and old.pk not in found


def test_attribute_the_customer_left_empty_does_not_exclude(customer, categories, regions):
    diesel_only = subscribe([categories["cars"]], [regions["GB"]], attribute_filters={"fuel": {"in": ["diesel"]}})
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"], attributes={})
    assert diesel_only.pk in matched(intent)


def test_budget_below_minimum_excludes(yaris, categories, regions):
    cheap = subscribe([categories["cars"]], [regions["GB"]], min_budget=Decimal("3000"), min_budget_currency="GBP")
    dear = subscribe([categories["cars"]], [regions["GB"]], min_budget=Decimal("9000"), min_budget_currency="GBP")
    found = matched(yaris)
    assert cheap.pk in found and dear.pk not in found


def test_budget_minimum_ignored_when_intent_has_no_budget(customer, categories, regions):
    dear = subscribe([categories["cars"]], [regions["GB"]], min_budget=Decimal("9000"), min_budget_currency="GBP")
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"], budget_max=None)
    assert dear.pk in matched(intent)


def test_budget_in_another_currency_is_not_compared(yaris, categories, regions):
    euros = subscribe([categories["cars"]], [regions["GB"]], min_budget=Decimal("9000"), min_budget_currency="EUR")
    assert euros.pk in matched(yaris)


def test_daily_cap_reached_excludes(yaris, customer, categories, regions):
    vendor = VendorFactory()
    subscription = save_subscription(
        vendor=vendor, categories=[categories["cars"]], regions=[regions["GB"]], daily_cap=1
    )
    earlier = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"])
    Delivery.objects.create(intent=earlier, vendor=vendor, subscription=subscription)
    assert vendor.pk not in matched(yaris)


def test_daily_cap_counts_only_today(yaris, customer, categories, regions):
    vendor = VendorFactory()
    subscription = save_subscription(
        vendor=vendor, categories=[categories["cars"]], regions=[regions["GB"]], daily_cap=1
    )
    earlier = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"])
    delivery = Delivery.objects.create(intent=earlier, vendor=vendor, subscription=subscription)
    Delivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(days=1, hours=1))
    assert vendor.pk in matched(yaris)


def test_inactive_subscription_does_not_match(yaris, categories, regions):
    vendor = subscribe([categories["cars"]], [regions["GB"]], active=False)
    assert vendor.pk not in matched(yaris)


@pytest.mark.parametrize("status", [Vendor.Status.PENDING, Vendor.Status.SUSPENDED])
def test_vendor_not_approved_does_not_match(yaris, categories, regions, status):
    vendor = subscribe([categories["cars"]], [regions["GB"]], vendor=VendorFactory(status=status))
    assert vendor.pk not in matched(yaris)


@pytest.mark.parametrize("side", [Block.Side.CUSTOMER, Block.Side.VENDOR])
def test_a_block_from_either_side_excludes(yaris, customer, categories, regions, side):
    vendor = subscribe([categories["cars"]], [regions["GB"]])
    Block.objects.create(customer=customer, vendor=vendor, blocked_by=side)
    assert vendor.pk not in matched(yaris)


def test_one_match_per_vendor_with_several_subscriptions(yaris, categories, regions):
    vendor = subscribe([categories["cars"]], [regions["GB"]])
    subscribe([categories["vehicles"]], [regions["GB-LND"]], vendor=vendor)
    assert [m.vendor_id for m in match_intent(yaris)].count(vendor.pk) == 1


def test_changing_a_subscription_reindexes_it(yaris, categories, regions):
    vendor = VendorFactory()
    subscription = save_subscription(vendor=vendor, categories=[categories["phones"]], regions=[regions["GB"]])
    assert vendor.pk not in matched(yaris)
    save_subscription(vendor=vendor, subscription=subscription, categories=[categories["cars"]])
    assert vendor.pk in matched(yaris)


def test_a_polish_request_matches_a_polish_keyword(customer, categories, regions):
    """Snowball's stemmer or, for a language it lacks, lower-casing: either way the same words meet."""
    polish = subscribe([categories["cars"]], [regions["GB"]], keywords=["samochodu"], language="pl")
    other = subscribe([categories["cars"]], [regions["GB"]], keywords=["rower"], language="pl")
    intent = IntentFactory(
        customer=customer,
        title="Szukam samochodu Toyota Yaris, srebrny",
        details="",
        category=categories["cars"],
        region=regions["GB"],
        language="pl",
    )
    found = matched(intent)
    assert polish.pk in found and other.pk not in found


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        return [row[0] for row in cursor.fetchall()]


def test_the_candidate_statement_is_prepared_once_per_connection_and_nothing_else(yaris, categories, regions):
    """PostgreSQL: the matcher's statement is prepared on the first match and reused after, with
    each call's values (a block added between two matches counts); the connection prepares no
    other statement (Django's threshold is put back)."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    vendor = subscribe([categories["cars"]], [regions["GB"]])
    before = _prepared_statements()
    assert vendor.pk in matched(yaris)
    Block.objects.create(customer=yaris.customer, vendor=vendor, blocked_by=Block.Side.CUSTOMER)
    assert vendor.pk not in matched(yaris)
    added = [text for text in _prepared_statements() if text not in before]
    assert len(added) <= 1
    assert all("vendors_subscriptionkey" in text for text in _prepared_statements())
    assert any("vendors_subscriptionkey" in text for text in _prepared_statements())
    assert connection.connection.prepare_threshold is None
