"""Her wishes beside an offer's values, and a request's attributes, for people."""

from intents.comparison import DIFFERS, MEETS, NOT_STATED, compare, describe_attributes, format_value, format_wish
from tests.conftest import CAR_SCHEMA

BY_NAME = {d["name"]: d for d in CAR_SCHEMA}
WISHES = {
    "make": "Toyota",
    "trim": ["T3", "TR"],
    "year": {"min": 2006},
    "mileage": 40000,
    "engine_size": 1.3,
    "aircon": True,
    "doors": 5,
}


def test_wishes_are_formatted_for_people():
    assert format_wish(BY_NAME["year"], {"min": 2006}) == "from 2006"
    assert format_wish(BY_NAME["year"], {"max": 2010}) == "up to 2010"
    assert format_wish(BY_NAME["year"], {"min": 2003, "max": 2006}) == "2003 to 2006"
    assert format_wish(BY_NAME["trim"], ["T3", "TR"]) == "T3 or TR"
    assert format_wish(BY_NAME["mileage"], 40000, country="GB-LND") == "at most 40,000 mi"
    assert format_wish(BY_NAME["mileage"], 40000, country="FR") == "at most 40,000 km"
    assert format_wish(BY_NAME["engine_size"], 1.3) == "1.3 l"
    assert format_wish(BY_NAME["aircon"], True) == "yes" and format_wish(BY_NAME["aircon"], False) == "no"
    assert format_wish(BY_NAME["make"], "Toyota") == "Toyota"
    assert format_value(BY_NAME["mileage"], 38000, country="GB") == "38,000 mi"
    assert format_value(BY_NAME["year"], 2007) == "2007"  # a year has no unit, so no thousands separator


def test_compare_marks_each_row_and_counts_the_fit():
    offer = {"make": "Toyota", "trim": "T3", "year": 2007, "mileage": 38000, "engine_size": 1.0, "colour": "silver"}
    result = compare(CAR_SCHEMA, WISHES, offer, country="GB")
    rows = {row.name: row for row in result.rows}
    assert [row.name for row in result.rows] == [
        "make",
        "trim",
        "year",
        "mileage",
        "engine_size",
        "doors",
        "colour",
        "aircon",
    ]
    assert (rows["make"].mark, rows["trim"].mark, rows["year"].mark, rows["mileage"].mark) == (MEETS,) * 4
    assert rows["engine_size"].mark == DIFFERS and rows["engine_size"].offer == "1 l"
    assert rows["aircon"].mark == NOT_STATED and rows["aircon"].offer == "" and rows["aircon"].wish == "yes"
    assert rows["doors"].mark == NOT_STATED
    assert rows["colour"].wished is False and rows["colour"].wish == "" and rows["colour"].offer == "silver"
    assert rows["year"].wish == "from 2006" and rows["year"].offer == "2007"
    assert rows["mileage"].label == "Mileage" and rows["mileage"].unit == "mi"
    assert rows["mileage"].wish == "at most 40,000 mi" and rows["mileage"].offer == "38,000 mi"
    assert rows["trim"].wish == "T3 or TR" and rows["trim"].offer == "T3"
    assert (result.fit, result.wishes) == (4, 7)


def test_compare_what_differs():
    offer = {"make": "Ford", "trim": ["Zetec"], "year": 2004, "mileage": 41000, "doors": 3, "aircon": False}
    rows = {row.name: row for row in compare(CAR_SCHEMA, WISHES, offer).rows}
    assert all(rows[name].mark == DIFFERS for name in ("make", "trim", "year", "mileage", "doors", "aircon"))
    assert compare(CAR_SCHEMA, WISHES, offer).fit == 0


def test_no_wishes_and_no_offer_give_no_rows():
    assert compare(CAR_SCHEMA, {}, {}).rows == []
    assert compare(CAR_SCHEMA, {}, {"make": "Toyota"}).fit == 0


def test_describe_a_requests_attributes_without_raw_values():
    described = describe_attributes(CAR_SCHEMA, {**WISHES, "retired": "x"}, country="GB")
    assert described == [
        ("Make", "Toyota"),
        ("Trim", "T3 or TR"),
        ("Year", "from 2006"),
        ("Mileage", "at most 40,000 mi"),
        ("Engine size", "1.3 l"),
        ("Doors", "5"),
        ("Air conditioning", "yes"),
        ("Retired", "x"),
    ]
    assert "{" not in str(described)
