"""Reads and loads of the taxonomy: categories with their attribute schemas, and regions.

Categories are a django-treebeard materialised path (``Category`` is an ``MP_Node``).

Regions keep their own nested set, numbered once over all countries in one pre-order
(``renumber_regions``, the one implementation: ``load_regions`` and the test factories call it),
rather than being a treebeard ``NS_Node``. Measured on the 100k-subscription bench database
(437k index rows), the index query keyed by (tree_id, per-country lft), as an ``NS_Node`` would
key it, was no faster than by the global lft (p50 0.33 ms against 0.31 ms, the same candidates):
treebeard would buy matching nothing. It would cost: ``NS_Node`` has no parent column, which the
API (``?parent=GB``, ``parent`` in the output), the admin and the brute-force reference read; its
lft restarts at 1 in every country, so the index key, ``SubscriptionKey`` and every caller of
``region_lft`` would need a second column; and it inserts node by node, shifting the numbers of
the rest of the country's tree at each insert (loading the 5,295 ISO regions that way took 16.8 s
on SQLite, ``load_regions`` 7.9 s).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import pycountry
from django.db import transaction

from intents.models import Category, Region
from intents.taxonomy_cache import forget_taxonomy, remembered


def category_schema(category: Category) -> list[dict]:
    """The attributes an intent in ``category`` may carry: its ancestors' and its own. One
    query: the ancestors are the prefixes of its materialised path."""
    steps = range(category.steplen, len(category.path) + 1, category.steplen)
    lineage = Category.objects.filter(path__in=[category.path[:end] for end in steps]).order_by("path")
    schema: dict[str, dict] = {}
    for attributes in lineage.values_list("attributes", flat=True):
        for definition in attributes:
            schema[definition["name"]] = definition
    return list(schema.values())


def remembered_category_schema(category: Category) -> tuple[Mapping[str, Any], ...]:
    """``category_schema``, remembered by the process as the matcher remembers a category's
    ancestors (``intents.taxonomy_cache``: forgotten when a category is saved here, and at the
    latest after ``TAXONOMY_CACHE_SECONDS`` in every other process): every bid and revision
    checks its offer against it. Read-only, as every caller shares it."""
    return remembered(
        ("category_schema", category.pk, category.path),
        lambda: tuple(MappingProxyType(definition) for definition in category_schema(category)),
    )


def categories_filter_schema(categories: Iterable[Category]) -> list[dict]:
    """The attributes a subscription to ``categories`` may filter on: those of the categories,
    their ancestors and their descendants (a vehicles vendor may filter on cars' doors)."""
    categories = list(categories)
    ids: set[int] = set()
    for category in categories:
        ids.update(category.ancestor_ids)
    descendants = Category.objects.none()
    for category in categories:
        descendants = descendants | Category.objects.get_descendants(category)
    schema: dict[str, dict] = {}
    for category in [*Category.objects.filter(pk__in=ids), *descendants]:
        for definition in category.attributes:
            schema.setdefault(definition["name"], definition)
    return list(schema.values())


def category_choices() -> list[tuple[int, str]]:
    """Categories for a select, indented by depth."""
    return [(c.pk, "— " * (c.depth - 1) + c.name) for c in Category.objects.get_tree()]


def region_ancestors(region: Region) -> list[Region]:
    return list(Region.objects.filter(lft__lte=region.lft, rgt__gte=region.rgt).order_by("lft"))


def number_regions(children: Mapping[int | None, Iterable[int]]) -> dict[int, tuple[int, int]]:
    """``(lft, rgt)`` of every region, by id: one pre-order over all the trees (the roots in
    turn), given each region's children (``None`` for the roots) in the order to number them."""
    numbers: dict[int, tuple[int, int]] = {}
    counter = 0
    stack: list[tuple[int, bool]] = [(pk, False) for pk in reversed(list(children.get(None, [])))]
    lfts: dict[int, int] = {}
    while stack:
        pk, done = stack.pop()
        counter += 1
        if done:
            numbers[pk] = (lfts[pk], counter)
            continue
        lfts[pk] = counter
        stack.append((pk, True))
        stack.extend((child, False) for child in reversed(list(children.get(pk, []))))
    return numbers


@transaction.atomic
def renumber_regions() -> int:
    """Number the region tree in pre-order, siblings by code (the nested set matching reads),
    and save the numbers that changed. The one numbering: ``load_regions`` and the test
    factories both call it. The subscription index holds ``lft``s, so rebuild it afterwards
    (``vendors.services.reindex_all_subscriptions``). Returns how many regions changed."""
    regions = sorted(Region.objects.only("pk", "code", "parent_id", "lft", "rgt"), key=lambda r: r.code)
    children: dict[int | None, list[int]] = {}
    for region in regions:
        children.setdefault(region.parent_id, []).append(region.pk)
    numbers = number_regions(children)
    changed = []
    for region in regions:
        if (region.lft, region.rgt) != numbers[region.pk]:
            region.lft, region.rgt = numbers[region.pk]
            changed.append(region)
    Region.objects.bulk_update(changed, ["lft", "rgt"], batch_size=1000)
    forget_taxonomy()
    return len(changed)


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

    Region.objects.bulk_create([r for r in rows.values() if r.pk is None], batch_size=1000)
    saved = {r.code: r for r in Region.objects.all()}
    for code, region in rows.items():
        region.pk = saved[code].pk
        parent = parents[code]
        region.parent_id = saved[parent].pk if parent else None
    Region.objects.bulk_update(list(rows.values()), ["name", "kind", "subdivision_type", "parent"], batch_size=1000)
    renumber_regions()
    return len(rows)
