"""Category attribute schemas: what an intent's attributes, a bid's offered attributes and a
subscription's attribute filters may say, and whether a filter admits a value.

A schema is a list of attribute definitions on a category; a category also has the
attributes of its ancestors. Definitions look like::

    {"name": "mileage", "label": "Mileage", "type": "number", "unit": "distance", "min": 0, "compare": "at_most"}
    {"name": "trim", "label": "Trim", "type": "enum", "choices": ["T3", "TR"], "multiple": true}
    {"name": "year", "label": "Year", "type": "range", "min": 1950, "max": "next_year"}
    {"name": "model", "label": "Model", "type": "enum", "depends_on": "make",
     "choices_by": {"Toyota": ["Yaris", "Aygo"], "Ford": ["Fiesta", "Focus"]}}

Types: text, number, enum, boolean, range. A request's range value is ``{"min": 2003, "max":
2006}`` (either end may be left out); an offer's is one number (``clean_offer_attributes``).

- ``min``/``max`` (number and range): bounds, a number or ``"this_year"``/``"next_year"``,
  resolved when a value is checked.
- ``unit``: shown after the value; ``"distance"`` is miles in GB and the US and km elsewhere
  (``resolve_unit``, given the request's country).
- ``compare`` (number): how an offered value meets her wish: ``equal`` (the default),
  ``at_most`` or ``at_least``.
- ``depends_on`` + ``choices_by`` (enum): the choices for each value of another attribute (which
  may be an ancestor category's). When that attribute has a value with a list, this one must be
  on the list; otherwise any of the choices (``choices`` and every list) is accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

TYPES = ("text", "number", "enum", "boolean", "range")
MAX_TEXT = 200
YEAR_BOUNDS = {"this_year": 0, "next_year": 1}
DISTANCE = "distance"
MILES_COUNTRIES = frozenset({"GB", "US"})
COMPARES = ("equal", "at_most", "at_least")


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        return value
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return int(number) if number == number.to_integral_value() else float(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "1", "on"}:
        return True
    if text in {"false", "no", "0", "off"}:
        return False
    raise ValueError


def plain_number(number: int | float) -> str:
    """A number as people write it in a message: 8, not 8.0."""
    return f"{number:g}" if isinstance(number, float) else str(number)


def resolve_bound(bound: Any, today: date | None = None) -> int | float | None:
    """A schema bound as a number: ``"next_year"`` is next year, as of ``today``."""
    if bound is None:
        return None
    if isinstance(bound, str) and bound in YEAR_BOUNDS:
        return (today or timezone.localdate()).year + YEAR_BOUNDS[bound]
    return _number(bound)


def bounds(definition: Mapping[str, Any]) -> tuple[int | float | None, int | float | None]:
    """The (min, max) a number or an end of a range may take; None where there is no bound."""
    return resolve_bound(definition.get("min")), resolve_bound(definition.get("max"))


def bounds_text(definition: Mapping[str, Any]) -> str:
    """The bounds for people: "from 1950 to 2027", "0 or more", "up to 8", or ""."""
    low, high = bounds(definition)
    if low is not None and high is not None:
        return f"from {plain_number(low)} to {plain_number(high)}"
    if low is not None:
        return f"{plain_number(low)} or more"
    if high is not None:
        return f"up to {plain_number(high)}"
    return ""


def _check_bounds(definition: Mapping[str, Any], number: int | float, what: str = "a number") -> None:
    low, high = bounds(definition)
    if (low is not None and number < low) or (high is not None and number > high):
        separator = " " if low is not None and high is not None else ": "
        raise ValueError(f"Enter {what}{separator}{bounds_text(definition)}.")


def resolve_unit(unit: str, country: str = "") -> str:
    """The unit to show: ``"distance"`` is miles in GB and the US, km elsewhere. ``country`` is a
    region code (``"GB"``, ``"GB-LND"``)."""
    if unit == DISTANCE:
        return "mi" if country.split("-")[0].upper() in MILES_COUNTRIES else "km"
    return unit


def enum_choices(definition: Mapping[str, Any]) -> list[Any]:
    """Every choice of an enum: its ``choices`` and those of each ``choices_by`` list."""
    choices = list(definition.get("choices") or [])
    for group in (definition.get("choices_by") or {}).values():
        choices.extend(choice for choice in group if choice not in choices)
    return choices


def dependent_choices(definition: Mapping[str, Any], parent_value: Any) -> list[Any] | None:
    """The choices allowed when the attribute this one depends on has ``parent_value``: None
    when that value has no list (then any choice is accepted)."""
    by_parent = {str(key).lower(): group for key, group in (definition.get("choices_by") or {}).items()}
    values = parent_value if isinstance(parent_value, list) else [parent_value]
    allowed: list[Any] = []
    for value in values:
        group = by_parent.get(str(value).lower())
        if group is None:
            return None
        allowed.extend(choice for choice in group if choice not in allowed)
    return allowed


def _schema_error(name: str, message: str) -> ValidationError:
    return ValidationError(f"Attribute {name!r}: {message}")


def _validate_definition(definition: dict[str, Any]) -> None:
    name, kind = definition["name"], definition["type"]
    if "min" in definition or "max" in definition:
        if kind not in ("number", "range"):
            raise _schema_error(name, "only a number or a range has a min and a max.")
        try:
            low, high = bounds(definition)
        except ValueError:
            raise _schema_error(name, 'min and max must be numbers, "this_year" or "next_year".') from None
        if low is not None and high is not None and low > high:
            raise _schema_error(name, "min is above max.")
    if "unit" in definition and not isinstance(definition["unit"], str):
        raise _schema_error(name, 'the unit must be text such as "l", or "distance".')
    if "compare" in definition and (kind != "number" or definition["compare"] not in COMPARES):
        raise _schema_error(name, f"compare is for numbers, one of {', '.join(COMPARES)}.")
    if ("depends_on" in definition) != ("choices_by" in definition):
        raise _schema_error(name, "depends_on and choices_by go together.")
    if "depends_on" in definition:
        by = definition["choices_by"]
        if kind != "enum":
            raise _schema_error(name, "only an enum can depend on another attribute.")
        if not isinstance(definition["depends_on"], str) or definition["depends_on"] in ("", name):
            raise _schema_error(name, "depends_on must name another attribute.")
        if not isinstance(by, dict) or not by or not all(isinstance(group, list) and group for group in by.values()):
            raise _schema_error(name, 'choices_by must be an object such as {"Toyota": ["Yaris", "Aygo"]}.')
    if kind == "enum" and not enum_choices(definition):
        raise _schema_error(name, "an enum needs choices.")


def validate_schema(schema: Any) -> list[dict[str, Any]]:
    """Check a category's attribute schema as an admin typed it."""
    if not isinstance(schema, list):
        raise ValidationError("The schema must be a list of attribute definitions.")
    names: set[str] = set()
    for definition in schema:
        if not isinstance(definition, dict) or not isinstance(definition.get("name"), str):
            raise ValidationError("Each attribute needs a name.")
        if definition["name"] in names:
            raise ValidationError(f"Attribute {definition['name']!r} is declared twice.")
        names.add(definition["name"])
        if definition.get("type") not in TYPES:
            raise ValidationError(f"Attribute {definition['name']!r}: type must be one of {', '.join(TYPES)}.")
        _validate_definition(definition)
    return schema


def clean_value(definition: Mapping[str, Any], value: Any) -> Any:
    """One attribute value, converted to its type; ``ValueError`` with a message if it is wrong."""
    kind = definition["type"]
    if kind == "text":
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError("Enter text.")
        text = str(value).strip()
        if len(text) > MAX_TEXT:
            raise ValueError(f"Keep it under {MAX_TEXT} characters.")
        return text
    if kind == "number":
        try:
            number = _number(value)
        except ValueError:
            raise ValueError("Enter a number.") from None
        _check_bounds(definition, number)
        return number
    if kind == "boolean":
        try:
            return _boolean(value)
        except ValueError:
            raise ValueError("Enter true or false.") from None
    if kind == "enum":
        all_choices = enum_choices(definition)
        choices = {str(choice).lower(): choice for choice in all_choices}
        values = value if isinstance(value, list) else [value]
        if not definition.get("multiple") and len(values) != 1:
            raise ValueError("Choose one value.")
        cleaned = []
        for item in values:
            match = choices.get(str(item).strip().lower())
            if match is None:
                raise ValueError(f"{item!r} is not one of: {', '.join(map(str, all_choices))}.")
            if match not in cleaned:
                cleaned.append(match)
        return cleaned if definition.get("multiple") else cleaned[0]
    if kind == "range":
        if not isinstance(value, Mapping) or not ({"min", "max"} & value.keys()):
            raise ValueError('Give a range as {"min": …, "max": …}.')
        try:
            ends = {key: _number(value[key]) for key in ("min", "max") if value.get(key) not in (None, "")}
        except ValueError:
            raise ValueError("The range bounds must be numbers.") from None
        if not ends:
            raise ValueError("Give at least one bound.")
        for end in ends.values():
            _check_bounds(definition, end, "a range")
        if "min" in ends and "max" in ends and ends["min"] > ends["max"]:
            raise ValueError("The minimum is above the maximum.")
        return ends
    raise ValueError(f"Unknown attribute type {kind!r}.")


def clean_attributes(schema: Iterable[Mapping[str, Any]], data: Any, *, require: bool = True) -> dict[str, Any]:
    """Validate attribute values against a schema. Empty values are dropped.

    Raises ``ValidationError`` whose message dict is keyed by attribute name.
    """
    return _clean_all(schema, data, clean_value, require=require)


def clean_offer_value(definition: Mapping[str, Any], value: Any) -> Any:
    """One value a vendor offers: a value, not a wish. A range takes one number within its
    bounds; an enum, even a multiple one, exactly one choice (a list of one stays a list)."""
    kind = definition["type"]
    if kind == "range":
        if isinstance(value, Mapping | list):
            raise ValueError("Offer one number, not a range.")
        return clean_value({**definition, "type": "number"}, value)
    if kind == "enum":
        values = value if isinstance(value, list) else [value]
        if len(values) != 1:
            raise ValueError("Offer exactly one of the choices.")
        chosen = clean_value({**definition, "multiple": False}, values[0])
        return [chosen] if isinstance(value, list) and definition.get("multiple") else chosen
    return clean_value(definition, value)


def clean_offer_attributes(schema: Iterable[Mapping[str, Any]], data: Any) -> dict[str, Any]:
    """Validate what a bid offers against a schema: concrete values (``clean_offer_value``),
    none required. Raises ``ValidationError`` whose message dict is keyed by attribute name."""
    return _clean_all(schema, data, clean_offer_value, require=False)


def _clean_all(
    schema: Iterable[Mapping[str, Any]],
    data: Any,
    clean_one: Callable[[Mapping[str, Any], Any], Any],
    *,
    require: bool,
) -> dict[str, Any]:
    if data in (None, ""):
        data = {}
    if not isinstance(data, Mapping):
        raise ValidationError("Attributes must be an object of name: value.")
    definitions = {definition["name"]: definition for definition in schema}
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if name not in definitions:
            errors[name] = "This category has no such attribute."
            continue
        if value in (None, "", []) or (isinstance(value, Mapping) and all(v in (None, "") for v in value.values())):
            continue  # an empty detail (a range with neither end) never constrains anything
        try:
            cleaned[name] = clean_one(definitions[name], value)
        except ValueError as error:
            errors[name] = str(error)
    errors.update(_dependency_errors(definitions, cleaned))
    if require:
        for name, definition in definitions.items():
            if definition.get("required") and name not in cleaned and name not in errors:
                errors[name] = "This attribute is required."
    if errors:
        raise ValidationError(errors)
    return cleaned


def _dependency_errors(definitions: Mapping[str, Mapping[str, Any]], cleaned: Mapping[str, Any]) -> dict[str, str]:
    """A value that depends on another (a model on its make) must be on that value's list."""
    errors: dict[str, str] = {}
    for name, value in cleaned.items():
        parent = definitions[name].get("depends_on")
        if not parent or parent not in cleaned:
            continue
        allowed = dependent_choices(definitions[name], cleaned[parent])
        if allowed is None:
            continue
        wrong = [item for item in (value if isinstance(value, list) else [value]) if item not in allowed]
        if wrong:
            parent_value = cleaned[parent]
            shown = " or ".join(map(str, parent_value)) if isinstance(parent_value, list) else str(parent_value)
            errors[name] = f"{wrong[0]} does not go with {shown}: choose one of {', '.join(map(str, allowed))}."
    return errors


def clean_filters(schema: Iterable[Mapping[str, Any]], filters: Any) -> dict[str, Any]:
    """Validate a subscription's attribute filters against the attributes it can see.

    Filters: ``{"in": [...]}`` for text and enum, ``{"min": n, "max": n}`` for number and range,
    ``{"eq": bool}`` for boolean.
    """
    if filters in (None, ""):
        return {}
    if not isinstance(filters, Mapping):
        raise ValidationError("Filters must be an object of name: filter.")
    definitions = {definition["name"]: definition for definition in schema}
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, rule in filters.items():
        definition = definitions.get(name)
        if definition is None:
            errors[name] = "None of the subscription's categories has this attribute."
            continue
        if not isinstance(rule, Mapping) or not rule:
            errors[name] = 'A filter is an object such as {"in": [...]}, {"min": 1} or {"eq": true}.'
            continue
        kind = definition["type"]
        try:
            if kind in ("text", "enum"):
                if set(rule) != {"in"} or not isinstance(rule["in"], list) or not rule["in"]:
                    raise ValueError('Use {"in": [value, ...]} for this attribute.')
                if kind == "enum":
                    values = [clean_value({**definition, "multiple": False}, item) for item in rule["in"]]
                else:
                    values = [clean_value(definition, item) for item in rule["in"]]
                cleaned[name] = {"in": values}
            elif kind in ("number", "range"):
                if not set(rule) <= {"min", "max"}:
                    raise ValueError('Use {"min": n, "max": n} for this attribute.')
                cleaned[name] = clean_value({"type": "range"}, rule)
            elif kind == "boolean":
                if set(rule) != {"eq"}:
                    raise ValueError('Use {"eq": true} or {"eq": false} for this attribute.')
                cleaned[name] = {"eq": clean_value(definition, rule["eq"])}
        except ValueError as error:
            errors[name] = str(error)
    if errors:
        raise ValidationError(errors)
    return cleaned


def filter_admits(rule: Mapping[str, Any], value: Any) -> bool:
    """Whether one attribute filter admits an intent's value. A missing value is admitted."""
    if value is None:
        return True
    if "in" in rule:
        allowed = {str(item).lower() for item in rule["in"]}
        values = value if isinstance(value, list) else [value]
        return any(str(item).lower() in allowed for item in values)
    if "eq" in rule:
        return bool(value == rule["eq"])
    low, high = rule.get("min"), rule.get("max")
    if isinstance(value, Mapping):  # a range value overlaps the filter's range
        value_low, value_high = value.get("min"), value.get("max")
        if low is not None and value_high is not None and value_high < low:
            return False
        return not (high is not None and value_low is not None and value_low > high)
    if low is not None and value < low:
        return False
    return not (high is not None and value > high)


def filters_admit(filters: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    return all(filter_admits(rule, attributes.get(name)) for name, rule in filters.items())
