"""What she asked for beside what a vendor offers, for people: pure functions over a category's
attribute schema (``intents.attributes``), a request's wishes and an offer's values.

``compare`` gives one row per attribute she stated or the offer states, each marked ``meets``,
``differs`` or ``not_stated`` (the offer says nothing about her wish), and the fit: how many of
her wishes the offer meets. ``describe_attributes`` shows a request's own attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal

from intents.attributes import resolve_unit

MEETS = "meets"
DIFFERS = "differs"
NOT_STATED = "not_stated"
DEFAULT_LOCALE = "en_GB"


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    unit: str
    wish: str  # her wish for people; "" when she stated none
    offer: str  # the offered value for people; "" when the offer says nothing
    mark: str  # MEETS, DIFFERS or NOT_STATED
    wished: bool  # whether she stated a wish (only those count in the fit)


@dataclass(frozen=True)
class Comparison:
    rows: list[Row]
    fit: int  # how many of her wishes the offer meets
    wishes: int  # how many wishes she stated


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _definitions(schema: Iterable[Mapping[str, Any]], *datas: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The schema's definitions in order, then a text definition for any name it lacks (an
    attribute since removed from the category)."""
    definitions = list(schema)
    known = {definition["name"] for definition in definitions}
    for data in datas:
        for name in data:
            if name not in known:
                known.add(name)
                definitions.append({"name": name, "type": "text"})
    return definitions


def label_of(definition: Mapping[str, Any]) -> str:
    return str(definition.get("label") or str(definition["name"]).replace("_", " ").capitalize())


def unit_of(definition: Mapping[str, Any], country: str = "") -> str:
    return resolve_unit(str(definition.get("unit") or ""), country)


def _number(definition: Mapping[str, Any], value: Any, country: str, locale: str) -> str:
    """A number with its unit: "38,000 mi", "1.3 l"; grouped only when it has a unit, so that a
    year stays 2006."""
    unit = unit_of(definition, country)
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
    else:
        text = format_decimal(value, locale=locale, group_separator=bool(unit))
    return f"{text} {unit}" if unit else text


def format_value(definition: Mapping[str, Any], value: Any, *, country: str = "", locale: str = DEFAULT_LOCALE) -> str:
    """An offered value (or a request's single value) for people."""
    if _empty(value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(format_value(definition, item, country=country, locale=locale) for item in value)
    if isinstance(value, Mapping):
        return format_wish({**definition, "type": "range"}, value, country=country, locale=locale)
    if definition.get("type") in ("number", "range"):
        return _number(definition, value, country, locale)
    return str(value)


def format_wish(definition: Mapping[str, Any], wish: Any, *, country: str = "", locale: str = DEFAULT_LOCALE) -> str:
    """Her wish for people: "from 2006", "2003 to 2006", "T3 or TR", "at most 40,000 mi", "yes"."""
    if _empty(wish):
        return ""
    if isinstance(wish, list):
        return " or ".join(format_value(definition, item, country=country, locale=locale) for item in wish)
    if isinstance(wish, Mapping):
        low, high = wish.get("min"), wish.get("max")
        shown = {key: _number(definition, wish[key], country, locale) for key in ("min", "max") if key in wish}
        if low is not None and high is not None:
            return shown["min"] if low == high else f"{shown['min']} to {shown['max']}"
        if low is not None:
            return f"from {shown['min']}"
        if high is not None:
            return f"up to {shown['max']}"
        return ""
    text = format_value(definition, wish, country=country, locale=locale)
    compare = definition.get("compare")
    if definition.get("type") == "number" and compare == "at_most":
        return f"at most {text}"
    if definition.get("type") == "number" and compare == "at_least":
        return f"at least {text}"
    return text


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _within(low: Any, high: Any, value: Any) -> bool:
    number = _as_number(value)
    if number is None:
        return False
    if low is not None and (_as_number(low) is None or number < float(low)):
        return False
    return not (high is not None and (_as_number(high) is None or number > float(high)))


def meets(definition: Mapping[str, Any], wish: Any, value: Any) -> bool:
    """Whether an offered value meets her wish."""
    kind = definition.get("type")
    if isinstance(wish, Mapping):  # a range: the offered number lies within it
        if isinstance(value, Mapping):  # an older offer of a range: the two overlap
            low, high = value.get("min"), value.get("max")
            return (low is None or _within(None, wish.get("max"), low)) and (
                high is None or _within(wish.get("min"), None, high)
            )
        return _within(wish.get("min"), wish.get("max"), value)
    if kind == "boolean" or isinstance(wish, bool):
        return value is wish or (isinstance(value, bool) and value == wish)
    if kind == "number":
        compare = definition.get("compare") or "equal"
        if compare == "at_most":
            return _within(None, wish, value)
        if compare == "at_least":
            return _within(wish, None, value)
        return _within(wish, wish, value)
    wished = {str(item).strip().casefold() for item in (wish if isinstance(wish, list) else [wish])}
    offered = [str(item).strip().casefold() for item in (value if isinstance(value, list) else [value])]
    if kind == "text" and not isinstance(wish, list):
        text = str(wish).strip().casefold()
        return any(text in item for item in offered)
    return bool(offered) and all(item in wished for item in offered)


def compare(
    schema: Iterable[Mapping[str, Any]],
    wishes: Mapping[str, Any],
    offer: Mapping[str, Any],
    *,
    country: str = "",
    locale: str = DEFAULT_LOCALE,
) -> Comparison:
    """One row per attribute she stated or the offer states, in the schema's order, and the fit.
    ``country`` is the request's region code (it decides miles or km)."""
    rows: list[Row] = []
    for definition in _definitions(schema, wishes, offer):
        name = definition["name"]
        wish, value = wishes.get(name), offer.get(name)
        wished, offered = not _empty(wish), not _empty(value)
        if not wished and not offered:
            continue
        if not wished:
            mark = MEETS  # she has no preference: any value will do
        elif not offered:
            mark = NOT_STATED
        else:
            mark = MEETS if meets(definition, wish, value) else DIFFERS
        rows.append(
            Row(
                name=name,
                label=label_of(definition),
                unit=unit_of(definition, country),
                wish=format_wish(definition, wish, country=country, locale=locale),
                offer=format_value(definition, value, country=country, locale=locale),
                mark=mark,
                wished=wished,
            )
        )
    return Comparison(
        rows=rows,
        fit=sum(1 for row in rows if row.wished and row.mark == MEETS),
        wishes=sum(1 for row in rows if row.wished),
    )


def describe_attributes(
    schema: Iterable[Mapping[str, Any]],
    attributes: Mapping[str, Any],
    *,
    country: str = "",
    locale: str = DEFAULT_LOCALE,
) -> list[tuple[str, str]]:
    """A request's own attributes for people, as (label, wish) pairs in the schema's order:
    ("Year of registration", "from 2006"), ("Trim", "T3 or TR"), ("Mileage, at most", "40,000 mi")."""
    return [
        (label_of(definition), format_wish(definition, attributes[definition["name"]], country=country, locale=locale))
        for definition in _definitions(schema, attributes)
        if not _empty(attributes.get(definition["name"]))
    ]
