"""A brute-force matcher: DESIGN.md's rules checked one by one over every subscription.

Deliberately naive and independent of ``broker.matching`` (no index, no shared helpers for the
tree walks), so the property test compares two different readings of the same rules.
"""

from __future__ import annotations

from datetime import datetime, time

from django.utils import timezone

from broker.core.keywords import stem_words
from intents.attributes import filter_admits
from intents.models import Category, Intent, Region
from vendors.models import Block, Delivery, Subscription, Vendor


def _ancestors(node, parent_of: dict) -> list:
    chain = [node]
    while parent_of.get(chain[-1]) is not None:
        chain.append(parent_of[chain[-1]])
    return chain


def reference_match(intent: Intent) -> set[int]:
    category_path = dict(Category.objects.values_list("pk", "path"))
    category_at = {path: pk for pk, path in category_path.items()}
    category_parent = {pk: category_at.get(path[: -Category.steplen]) for pk, path in category_path.items()}
    region_parent = dict(Region.objects.values_list("pk", "parent_id"))
    intent_categories = set(_ancestors(intent.category_id, category_parent))
    intent_regions = set(_ancestors(intent.region_id, region_parent))
    intent_stems = set(stem_words(f"{intent.title}\n{intent.details}", intent.language))
    blocked = set(Block.objects.filter(customer_id=intent.customer_id).values_list("vendor_id", flat=True))
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))

    vendors: set[int] = set()
    for sub in Subscription.objects.prefetch_related("categories", "regions").select_related("vendor"):
        if not sub.active or sub.vendor.status != Vendor.Status.APPROVED or sub.vendor_id in blocked:
            continue
        if not any(c.pk in intent_categories for c in sub.categories.all()):
            continue
        # Overlap: the subscription's region is an ancestor-or-self of the intent's, or inside it.
        if not any(
            r.pk in intent_regions or intent.region_id in _ancestors(r.pk, region_parent) for r in sub.regions.all()
        ):
            continue
        if sub.keywords and not any(set(stem_words(keyword, sub.language)) <= intent_stems for keyword in sub.keywords):
            continue
        if not all(filter_admits(rule, intent.attributes.get(name)) for name, rule in sub.attribute_filters.items()):
            continue
        if (
            sub.min_budget is not None
            and intent.budget_max is not None
            and (not sub.min_budget_currency or sub.min_budget_currency == intent.currency)
            and intent.budget_max < sub.min_budget
        ):
            continue
        if sub.daily_cap is not None:
            used = Delivery.objects.filter(subscription=sub, created_at__gte=midnight).exclude(intent=intent).count()
            if used >= sub.daily_cap:
                continue
        vendors.add(sub.vendor_id)
    return vendors
