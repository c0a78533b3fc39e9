"""Category attribute schemas: what an intent's attributes, a bid's offered attributes and a
subscription's attribute filters may say, and whether a filter admits a value.

A schema is a list of attribute definitions on a category; a category also has the
attributes of its ancestors. Definitions look like::

    {"name": "mileage", "label": "Mileage", "type": "number", "unit": "mi"}
    {"name": "trim", "label": "Trim", "type": "enum", "choices": ["T3", "TR"], "multiple": true}
    {"name": "year", "label": "Year", "type": "range"}       # value: {"min": 2003, "max": 2006}

Types: text, number, enum, boolean, range.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

TYPES = ("text", "number", "enum", "boolean", "range")
MAX_TEXT = 200


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
        if definition["type"] == "enum" and not definition.get("choices"):
            raise ValidationError(f"Attribute {definition['name']!r}: an enum needs choices.")
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
            return _number(value)
        except ValueError:
            raise ValueError("Enter a number.") from None
    if kind == "boolean":
        try:
            return _boolean(value)
        except ValueError:
            raise ValueError("Enter true or false.") from None
    if kind == "enum":
        choices = {str(choice).lower(): choice for choice in definition["choices"]}
        values = value if isinstance(value, list) else [value]
        if not definition.get("multiple") and len(values) != 1:
            raise ValueError("Choose one value.")
        cleaned = []
        for item in values:
            match = choices.get(str(item).strip().lower())
            if match is None:
                raise ValueError(f"{item!r} is not one of: {', '.join(map(str, definition['choices']))}.")
            if match not in cleaned:
                cleaned.append(match)
        return cleaned if definition.get("multiple") else cleaned[0]
    if kind == "range":
        if not isinstance(value, Mapping) or not ({"min", "max"} & value.keys()):
            raise ValueError('Give a range as {"min": …, "max": …}.')
        try:
            bounds = {key: _number(value[key]) for key in ("min", "max") if value.get(key) not in (None, "")}
        except ValueError:
            raise ValueError("The range bounds must be numbers.") from None
        if not bounds:
            raise ValueError("Give at least one bound.")
        if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
            raise ValueError("The minimum is above the maximum.")
        return bounds
    raise ValueError(f"Unknown attribute type {kind!r}.")


def clean_attributes(schema: Iterable[Mapping[str, Any]], data: Any, *, require: bool = True) -> dict[str, Any]:
    """Validate attribute values against a schema. Empty values are dropped.

    Raises ``ValidationError`` whose message dict is keyed by attribute name.
    """
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
        if value in (None, "", []):
            continue
        try:
            cleaned[name] = clean_value(definitions[name], value)
        except ValueError as error:
            errors[name] = str(error)
    if require:
        for name, definition in definitions.items():
            if definition.get("required") and name not in cleaned and name not in errors:
                errors[name] = "This attribute is required."
    if errors:
        raise ValidationError(errors)
    return cleaned


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
