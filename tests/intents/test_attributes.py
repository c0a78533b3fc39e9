import pytest
from django.core.exceptions import ValidationError

from intents.attributes import clean_attributes, clean_filters, filter_admits, validate_schema
from intents.models import Category
from tests.conftest import CAR_SCHEMA


def test_values_are_converted_to_their_types():
    cleaned = clean_attributes(
        CAR_SCHEMA,
        {
            "make": "toyota",
            "trim": ["t3", "TR", "T3"],
            "mileage": "40,000".replace(",", ""),
            "engine_size": "1.3",
            "aircon": "yes",
            "year": {"min": "2003", "max": 2006},
            "colour": " silver ",
            "doors": "",
        },
    )
    assert cleaned == {
        "make": "Toyota",
        "trim": ["T3", "TR"],
        "mileage": 40000,
        "engine_size": 1.3,
        "aircon": True,
        "year": {"min": 2003, "max": 2006},
        "colour": "silver",
    }


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"mileage": "far"}, "mileage", "Enter a number."),
        ({"mileage": "NaN"}, "mileage", "Enter a number."),
        ({"mileage": True}, "mileage", "Enter a number."),
        ({"make": "Trabant"}, "make", "is not one of"),
        ({"make": ["Toyota", "Ford"]}, "make", "Choose one value."),
        ({"aircon": "perhaps"}, "aircon", "Enter true or false."),
        ({"year": {"min": 2010, "max": 2000}}, "year", "The minimum is above the maximum."),
        ({"year": 2005}, "year", "Give a range"),
        ({"colour": "x" * 201}, "colour", "under 200"),
        ({"wingspan": 3}, "wingspan", "no such attribute"),
    ],
)
def test_bad_values_are_named_with_a_message(data, field, message):
    with pytest.raises(ValidationError) as error:
        clean_attributes(CAR_SCHEMA, data)
    assert message in error.value.message_dict[field][0]


def test_required_attribute_must_be_given():
    schema = [{"name": "make", "type": "text", "required": True}]
    with pytest.raises(ValidationError) as error:
        clean_attributes(schema, {})
    assert "make" in error.value.message_dict
    assert clean_attributes(schema, {}, require=False) == {}


def test_attributes_must_be_an_object():
    with pytest.raises(ValidationError):
        clean_attributes(CAR_SCHEMA, ["make"])


@pytest.mark.parametrize(
    "schema",
    [
        "make",
        [{"type": "text"}],
        [{"name": "a", "type": "colour"}],
        [{"name": "a", "type": "enum"}],
        [{"name": "a", "type": "text"}, {"name": "a", "type": "number"}],
    ],
)
def test_bad_schemas_are_refused(schema):
    with pytest.raises(ValidationError):
        validate_schema(schema)


def test_filters_are_checked_against_the_schema():
    assert clean_filters(CAR_SCHEMA, {"make": {"in": ["toyota"]}, "mileage": {"max": "60000"}}) == {
        "make": {"in": ["Toyota"]},
        "mileage": {"max": 60000},
    }
    with pytest.raises(ValidationError) as error:
        clean_filters(CAR_SCHEMA, {"make": {"eq": "Toyota"}, "aircon": {"in": [True]}})
    assert set(error.value.message_dict) == {"make", "aircon"}


@pytest.mark.parametrize(
    ("rule", "value", "admitted"),
    [
        ({"in": ["Toyota"]}, "toyota", True),
        ({"in": ["Toyota"]}, "Ford", False),
        ({"in": ["TR"]}, ["T3", "TR"], True),
        ({"min": 2000, "max": 2010}, 2005, True),
        ({"min": 2000}, 1999, False),
        ({"max": 50000}, 50000, True),
        ({"min": 2004}, {"min": 2003, "max": 2006}, True),
        ({"max": 2002}, {"min": 2003, "max": 2006}, False),
        ({"eq": True}, False, False),
        ({"eq": True}, None, True),
    ],
)
def test_filter_admits(rule, value, admitted):
    assert filter_admits(rule, value) is admitted


@pytest.mark.django_db
def test_moving_a_category_moves_its_descendants(categories):

    vans, cars = categories["vans"], categories["cars"]
    small = Category.objects.create(slug="small-cars", name="Small cars", parent=cars)
    assert small.ancestor_ids == [categories["vehicles"].pk, cars.pk, small.pk]
    cars.parent = vans
    cars.save()
    small.refresh_from_db()
    assert small.ancestor_ids == [categories["vehicles"].pk, vans.pk, cars.pk, small.pk]
    vans.refresh_from_db()
    vans.parent = small
    with pytest.raises(ValueError):
        vans.save()
