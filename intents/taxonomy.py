"""Reads and loads of the taxonomy: categories with their attribute schemas, and regions."""

from __future__ import annotations

from collections.abc import Iterable

import pycountry
from django.db import transaction

from intents.models import Category, Region


def category_schema(category: Category) -> list[dict]:
    """The attributes an intent in ``category`` may carry: its ancestors' and its own."""
    by_id = {c.pk: c for c in Category.objects.filter(pk__in=category.ancestor_ids)}
    schema: dict[str, dict] = {}
    for pk in category.ancestor_ids:
        for definition in by_id[pk].attributes:
            schema[definition["name"]] = definition
    return list(schema.values())


def categories_filter_schema(categories: Iterable[Category]) -> list[dict]:
    """The attributes a subscription to ``categories`` may filter on: those of the categories,
    their ancestors and their descendants (a vehicles vendor may filter on cars' doors)."""
    categories = list(categories)
    ids: set[int] = set()
    for category in categories:
        ids.update(category.ancestor_ids)
    descendants = Category.objects.none()
    for category in categories:
        descendants = descendants | Category.objects.filter(path__startswith=f"{category.path}/")
    schema: dict[str, dict] = {}
    for category in [*Category.objects.filter(pk__in=ids), *descendants]:
        for definition in category.attributes:
            schema.setdefault(definition["name"], definition)
    return list(schema.values())


def category_choices() -> list[tuple[int, str]]:
    """Categories for a select, indented by depth."""
    return [(c.pk, "— " * (len(c.ancestor_ids) - 1) + c.name) for c in Category.objects.order_by("path")]


def region_ancestors(region: Region) -> list[Region]:
    return list(Region.objects.filter(lft__lte=region.lft, rgt__gte=region.rgt).order_by("lft"))


@transaction.atomic
def load_regions() -> int:
    """Load ISO 3166-1 countries and ISO 3166-2 subdivisions from ``pycountry``, as a tree,
    and number it in pre-order. Safe to run again: rows are matched by code."""
    existing = {r.code: r for r in Region.objects.all()}
    rows: dict[str, Region] = {}
    parents: dict[str, str | None] = {}
    for country in pycountry.countries:
        region = existing.get(country.alpha_2) or Region(code=country.alpha_2)
        region.name = getattr(country, "common_name", None) or country.name
        region.kind = Region.Kind.COUNTRY
        region.subdivision_type = ""
        rows[region.code] = region
        parents[region.code] = None
    for subdivision in pycountry.subdivisions:
        region = existing.get(subdivision.code) or Region(code=subdivision.code)
        region.name = subdivision.name
        region.kind = Region.Kind.SUBDIVISION
        region.subdivision_type = subdivision.type
        rows[region.code] = region
        parents[region.code] = subdivision.parent_code or subdivision.country_code

    for code, parent in parents.items():
        if parent is not None and parent not in rows:  # a parent pycountry does not list
            parents[code] = code.split("-")[0]

    children: dict[str | None, list[str]] = {}
    for code, parent in parents.items():
        children.setdefault(parent, []).append(code)

    counter = 0

    def number(code: str) -> None:
        nonlocal counter
        counter += 1
        rows[code].lft = counter
        for child in sorted(children.get(code, [])):
            number(child)
        counter += 1
        rows[code].rgt = counter

    for code in sorted(children[None]):
        number(code)

    Region.objects.bulk_create([r for r in rows.values() if r.pk is None], batch_size=1000)
    saved = {r.code: r for r in Region.objects.all()}
    for code, region in rows.items():
        region.pk = saved[code].pk
        parent = parents[code]
        region.parent_id = saved[parent].pk if parent else None
    Region.objects.bulk_update(
        list(rows.values()), ["name", "kind", "subdivision_type", "parent", "lft", "rgt"], batch_size=1000
    )
    return len(rows)
