"""Bounds, units and dependent choices in attribute schemas, and the values an offer carries."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from intents.attributes import (
    clean_attributes,
    clean_offer_attributes,
    dependent_choices,
    resolve_bound,
    resolve_unit,
    validate_schema,
)
from intents.taxonomy_data import MODELS_BY_MAKE, TREE
from tests.conftest import CAR_SCHEMA

NEXT_YEAR = timezone.localdate().year + 1


def errors_of(clean, data, schema=CAR_SCHEMA) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        clean(schema, data)
    return error.value.message_dict


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"mileage": -5}, "mileage", "Enter a number: 0 or more."),
        ({"year": {"min": 1800}}, "year", f"Enter a range from 1950 to {NEXT_YEAR}."),
        ({"year": {"max": NEXT_YEAR + 1}}, "year", f"from 1950 to {NEXT_YEAR}"),
        ({"engine_size": "0.5"}, "engine_size", "Enter a number from 0.6 to 8."),
        ({"engine_size": 12}, "engine_size", "from 0.6 to 8"),
        ({"doors": 1}, "doors", "Enter a number from 2 to 7."),
        ({"doors": 9}, "doors", "from 2 to 7"),
    ],
)
def test_values_outside_the_bounds_are_refused_by_name(data, field, message):
    assert message in errors_of(clean_attributes, data)[field][0]


def test_values_at_the_bounds_and_open_ended_ranges_are_accepted():
    cleaned = clean_attributes(
        CAR_SCHEMA, {"mileage": 0, "doors": 7, "engine_size": "0.6", "year": {"min": 1950, "max": NEXT_YEAR}}
    )
    assert cleaned == {"mileage": 0, "doors": 7, "engine_size": 0.6, "year": {"min": 1950, "max": NEXT_YEAR}}
    assert clean_attributes(CAR_SCHEMA, {"year": {"min": "2006", "max": ""}}) == {"year": {"min": 2006}}
    assert clean_attributes(CAR_SCHEMA, {"year": {"max": 2010}}) == {"year": {"max": 2010}}


def test_next_year_is_resolved_when_validating():
    assert resolve_bound("next_year", date(2030, 6, 1)) == 2031
    assert resolve_bound("this_year", date(2030, 6, 1)) == 2030
    assert resolve_bound("8.0") == 8 and resolve_bound(None) is None


@pytest.mark.parametrize(
    ("unit", "country", "shown"),
    [
        ("distance", "GB", "mi"),
        ("distance", "GB-LND", "mi"),
        ("distance", "US", "mi"),
        ("distance", "FR", "km"),
        ("distance", "PL", "km"),
        ("distance", "", "km"),
        ("l", "GB", "l"),
        ("", "GB", ""),
    ],
)
def test_distance_is_miles_in_gb_and_the_us_km_elsewhere(unit, country, shown):
    assert resolve_unit(unit, country) == shown


def test_a_model_must_belong_to_the_chosen_make():
    assert clean_attributes(CAR_SCHEMA, {"make": "Toyota", "model": "yaris"}) == {"make": "Toyota", "model": "Yaris"}
    message = errors_of(clean_attributes, {"make": "Toyota", "model": "Fiesta"})["model"][0]
    assert message == "Fiesta does not go with Toyota: choose one of Yaris, Aygo, Corolla."
    assert clean_attributes(CAR_SCHEMA, {"model": "Fiesta"}) == {"model": "Fiesta"}  # no make: any model
    assert "is not one of" in errors_of(clean_attributes, {"model": "Trabant"})["model"][0]


def test_trims_by_model():
    assert clean_attributes(CAR_SCHEMA, {"model": "Yaris", "trim": ["T3", "TR"]})["trim"] == ["T3", "TR"]
    assert "does not go with Fiesta" in errors_of(clean_attributes, {"model": "Fiesta", "trim": ["T3"]})["trim"][0]
    # A model without a list of trims takes any trim.
    assert clean_attributes(CAR_SCHEMA, {"model": "Aygo", "trim": ["T3"]})["trim"] == ["T3"]
    assert dependent_choices(CAR_SCHEMA[2], "Aygo") is None


def test_an_empty_detail_is_never_a_constraint():
    assert clean_attributes(CAR_SCHEMA, {"make": "", "model": "", "year": {"min": "", "max": ""}, "trim": []}) == {}


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"name": "a", "type": "number", "min": "lots"}, "min and max must be numbers"),
        ({"name": "a", "type": "number", "min": 5, "max": 1}, "min is above max"),
        ({"name": "a", "type": "text", "min": 1}, "only a number or a range"),
        ({"name": "a", "type": "number", "unit": 3}, "unit must be text"),
        ({"name": "a", "type": "number", "compare": "about"}, "compare is for numbers"),
        ({"name": "a", "type": "enum", "depends_on": "b"}, "go together"),
        ({"name": "a", "type": "text", "depends_on": "b", "choices_by": {"x": ["y"]}}, "only an enum"),
        ({"name": "a", "type": "enum", "depends_on": "a", "choices_by": {"x": ["y"]}}, "another attribute"),
        ({"name": "a", "type": "enum", "depends_on": "b", "choices_by": {"x": []}}, "choices_by must be"),
        ({"name": "a", "type": "enum", "depends_on": "b", "choices_by": ["y"]}, "choices_by must be"),
    ],
)
def test_bad_definitions_are_refused_with_a_message(definition, message):
    with pytest.raises(ValidationError) as error:
        validate_schema([definition])
    assert message in error.value.messages[0]


def test_good_definitions_pass():
    assert validate_schema(CAR_SCHEMA) == CAR_SCHEMA
    validate_schema([{"name": "year", "type": "range", "min": 1950, "max": "next_year"}])


def _nodes(tree):
    for node in tree:
        yield node
        yield from _nodes(node.get("children", []))


def test_the_starting_taxonomy_uses_bounds_units_and_dependent_choices():
    nodes = {node["slug"]: node for node in _nodes(TREE)}
    for node in nodes.values():
        validate_schema(node.get("attributes", []))
    schema = [*nodes["vehicles"]["attributes"], *nodes["cars"]["attributes"]]
    by_name = {d["name"]: d for d in schema}
    assert (by_name["year"]["min"], by_name["year"]["max"]) == (1950, "next_year")
    assert by_name["mileage"]["min"] == 0 and by_name["mileage"]["unit"] == "distance"
    assert (by_name["engine_size"]["min"], by_name["engine_size"]["max"], by_name["engine_size"]["unit"]) == (
        0.6,
        8.0,
        "l",
    )
    assert (by_name["doors"]["min"], by_name["doors"]["max"]) == (2, 7)
    assert {"Toyota", "Ford", "Volkswagen", "Honda"} <= set(by_name["model"]["choices_by"])
    assert set(MODELS_BY_MAKE) == set(by_name["make"]["choices"])  # every make has its models
    assert "T3" in by_name["trim"]["choices_by"]["Yaris"]
    assert clean_attributes(schema, {"make": "Toyota", "model": "Yaris", "trim": ["T3", "TR"], "year": {"min": 2006}})
    errors = errors_of(
        clean_attributes, {"make": "Ford", "model": "Yaris", "mileage": -5, "year": {"min": 1800}}, schema
    )
    assert set(errors) == {"model", "mileage", "year"}


# Offers ------------------------------------------------------------------------------------


def test_an_offer_carries_values_not_wishes():
    offer = {
        "make": "toyota",
        "model": "Yaris",
        "trim": "T3",
        "year": "2007",
        "mileage": 38000,
        "engine_size": "1.3",
        "aircon": "yes",
        "colour": " silver ",
    }
    assert clean_offer_attributes(CAR_SCHEMA, offer) == {
        "make": "Toyota",
        "model": "Yaris",
        "trim": "T3",
        "year": 2007,
        "mileage": 38000,
        "engine_size": 1.3,
        "aircon": True,
        "colour": "silver",
    }
    # A list of one choice (as older clients send it) stays a list of one.
    assert clean_offer_attributes(CAR_SCHEMA, {"trim": ["T3"]}) == {"trim": ["T3"]}
    assert clean_offer_attributes(CAR_SCHEMA, None) == {}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"year": {"min": 2003, "max": 2006}}, "year", "Offer one number, not a range."),
        ({"year": 1800}, "year", f"Enter a number from 1950 to {NEXT_YEAR}."),
        ({"year": "recent"}, "year", "Enter a number."),
        ({"trim": ["T3", "TR"]}, "trim", "Offer exactly one of the choices."),
        ({"make": ["Toyota", "Ford"]}, "make", "Offer exactly one of the choices."),
        ({"make": "Trabant"}, "make", "is not one of"),
        ({"mileage": -5}, "mileage", "Enter a number: 0 or more."),
        ({"doors": 12}, "doors", "from 2 to 7"),
        ({"aircon": "perhaps"}, "aircon", "Enter true or false."),
        ({"colour": "x" * 201}, "colour", "under 200"),
        ({"make": "Ford", "model": "Yaris"}, "model", "does not go with Ford"),
        ({"wings": 2}, "wings", "no such attribute"),
    ],
)
def test_bad_offer_values_are_named_with_a_message(data, field, message):
    assert message in errors_of(clean_offer_attributes, data)[field][0]


def test_an_offer_need_not_give_a_required_attribute():
    schema = [{"name": "make", "type": "text", "required": True}]
    assert clean_offer_attributes(schema, {}) == {}
