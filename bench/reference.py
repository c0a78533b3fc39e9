"""The brute-force reference matcher: no index, every rule of DESIGN.md ("Matching") checked one
by one on every active subscription of every approved vendor, in plain Python.

``brute_force_match`` is what a broker without an index would do for each request: load all
live subscriptions with their categories, regions, keywords and filters, then scan them.
"""

from __future__ import annotations

import gc
import json
from decimal import Decimal

from django.db import connection
from django.db.models import Count

from broker.core.keywords import keyword_stems, text_stems
from intents.attributes import filters_admit
from intents.models import Intent, Region
from vendors.models import Block, Delivery, Subscription, Vendor


def load_snapshot() -> list[dict]:
    """Every active subscription of an approved vendor, with its category ids and its regions'
    (lft, rgt), in the matcher's order of preference (vendor, oldest first).

    Three plain SQL reads (the ORM takes several times longer at a million rows, and a slow
    reference would flatter the index)."""
    subscription = Subscription._meta.db_table
    categories = Subscription.categories.through._meta.db_table
    links = Subscription.regions.through._meta.db_table
    # Millions of small containers: without this the cyclic collector runs hundreds of times
    # while loading, and once more over all of them at the next scan.
    gc.disable()
    try:
        snapshot = _load(subscription, categories, links)
        gc.freeze()
        return snapshot
    finally:
        gc.enable()


def _load(subscription: str, categories: str, links: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT s.id, s.vendor_id, s.keywords, s.language, s.attribute_filters, s.min_budget,
                       s.min_budget_currency, s.daily_cap
                FROM {subscription} s JOIN {Vendor._meta.db_table} v ON v.id = s.vendor_id
                WHERE s.active AND v.status = %s
                ORDER BY s.vendor_id, s.created_at, s.id""",  # noqa: S608 (models' tables)
            [Vendor.Status.APPROVED],
        )
        snapshot = [
            {
                "id": pk,
                "vendor_id": vendor_id,
                "keywords": json.loads(keywords) if isinstance(keywords, str) else keywords,
                "language": language,
                "attribute_filters": json.loads(filters) if isinstance(filters, str) else filters,
                "min_budget": min_budget,
                "min_budget_currency": currency,
                "daily_cap": daily_cap,
                "categories": set(),
                "regions": [],
            }
            for pk, vendor_id, keywords, language, filters, min_budget, currency, daily_cap in cursor.fetchall()
        ]
        by_id = {sub["id"]: sub for sub in snapshot}
        cursor.execute(f"SELECT subscription_id, category_id FROM {categories}")  # noqa: S608
        for subscription_id, category_id in cursor.fetchall():
            sub = by_id.get(subscription_id)
            if sub is not None:
                sub["categories"].add(category_id)
        region = Region._meta.db_table
        cursor.execute(
            f"SELECT l.subscription_id, r.lft, r.rgt FROM {links} l JOIN {region} r ON r.id = l.region_id"  # noqa: S608
        )
        for subscription_id, lft, rgt in cursor.fetchall():
            sub = by_id.get(subscription_id)
            if sub is not None:
                sub["regions"].append((lft, rgt))
    return snapshot


def _budget_ok(minimum: Decimal | None, currency: str, intent: Intent) -> bool:
    if minimum is None or intent.budget_max is None:
        return True
    if currency and currency != intent.currency:  # no exchange rates: not comparable, not excluded
        return True
    return intent.budget_max >= minimum


def scan(snapshot: list[dict], intent: Intent) -> dict[int, object]:
    """vendor id -> the subscription id that earned it, for every vendor ``intent`` reaches."""
    from broker.pipeline.matching import start_of_day

    ancestors = set(intent.category.ancestor_ids)
    lft, rgt = intent.region.lft, intent.region.rgt
    stems = text_stems(f"{intent.title}\n{intent.details}", intent.language)
    admitted = []
    for sub in snapshot:
        if ancestors.isdisjoint(sub["categories"]):
            continue
        # The regions overlap: the subscription's is inside the intent's, or contains it.
        if not any(lft <= s_lft <= rgt or (s_lft <= lft and s_rgt >= rgt) for s_lft, s_rgt in sub["regions"]):
            continue
        if sub["keywords"] and not any(set(keyword_stems(k, sub["language"])) <= stems for k in sub["keywords"]):
            continue
        if not filters_admit(sub["attribute_filters"], intent.attributes):
            continue
        if not _budget_ok(sub["min_budget"], sub["min_budget_currency"], intent):
            continue
        admitted.append(sub)
    capped = [sub["id"] for sub in admitted if sub["daily_cap"] is not None]
    used = dict(
        Delivery.objects.filter(subscription_id__in=capped, created_at__gte=start_of_day())
        .exclude(intent_id=intent.pk)
        .values("subscription_id")
        .annotate(n=Count("id"))
        .values_list("subscription_id", "n")
    )
    blocked = set(Block.objects.filter(customer_id=intent.customer_id).values_list("vendor_id", flat=True))
    vendors: dict[int, object] = {}
    for sub in admitted:
        if sub["vendor_id"] in vendors or sub["vendor_id"] in blocked:
            continue
        if sub["daily_cap"] is not None and used.get(sub["id"], 0) >= sub["daily_cap"]:
            continue
        vendors[sub["vendor_id"]] = sub["id"]
    return vendors


def brute_force_match(intent: Intent) -> dict[int, object]:
    return scan(load_snapshot(), intent)
