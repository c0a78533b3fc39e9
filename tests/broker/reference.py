"""A brute-force matcher: DESIGN.md's rules checked one by one over every subscription.

Deliberately naive and independent of ``broker.matching`` (no index, no shared helpers for the
tree walks), so the property test compares two different readings of the same rules.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from broker.core.keywords import stem_words
from intents.attributes import filter_admits
from intents.models import Category, Intent, Region
from reputation.models import VendorScore
from vendors.models import AudienceChoice, Block, Delivery, Subscription, Vendor


def _ancestors(node, parent_of: dict) -> list:
    chain = [node]
    while parent_of.get(chain[-1]) is not None:
        chain.append(parent_of[chain[-1]])
    return chain


def reference_match(intent: Intent) -> set[int]:
    """The vendors the intent reaches: the broker's rules, then her controls."""
    fits = _broker_match(intent)
    return _her_controls(intent, fits)


def _broker_match(intent: Intent) -> dict[int, tuple[int, int, int, int]]:
    """The vendors the broker's rules admit, each with its best fit: (keywords found, attribute
    filters, depth of the covering category from the root = 1, depth of the closest region from
    the root = 0, a region inside the request's counting as the request's own)."""
    category_path = dict(Category.objects.values_list("pk", "path"))
    category_at = {path: pk for pk, path in category_path.items()}
    category_parent = {pk: category_at.get(path[: -Category.steplen]) for pk, path in category_path.items()}
    region_parent = dict(Region.objects.values_list("pk", "parent_id"))
    intent_categories = set(_ancestors(intent.category_id, category_parent))
    intent_regions = set(_ancestors(intent.region_id, region_parent))
    intent_stems = set(stem_words(f"{intent.title}\n{intent.details}", intent.language))
    blocked = set(Block.objects.filter(customer_id=intent.customer_id).values_list("vendor_id", flat=True))
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))

    vendors: dict[int, tuple[int, int, int, int]] = {}
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
        keywords = sum(1 for keyword in sub.keywords if set(stem_words(keyword, sub.language)) <= intent_stems)
        category_depth = max(
            len(_ancestors(c.pk, category_parent)) for c in sub.categories.all() if c.pk in intent_categories
        )
        own_depth = len(_ancestors(intent.region_id, region_parent)) - 1
        region_depth = max(
            len(_ancestors(r.pk, region_parent)) - 1 if r.pk in intent_regions else own_depth
            for r in sub.regions.all()
            if r.pk in intent_regions or intent.region_id in _ancestors(r.pk, region_parent)
        )
        fit = (keywords, len(sub.attribute_filters), category_depth, region_depth)
        vendors[sub.vendor_id] = max(vendors.get(sub.vendor_id, fit), fit)
    return vendors


def _her_controls(intent: Intent, fits: dict[int, tuple[int, int, int, int]]) -> set[int]:
    """docs/matching.md, "Who hears her", read literally, one vendor at a time."""
    choices = dict(AudienceChoice.objects.filter(intent=intent).values_list("vendor_id", "kind"))
    blocked = set(Block.objects.filter(customer_id=intent.customer_id).values_list("vendor_id", flat=True))
    invited = {v for v, kind in choices.items() if kind == "invite" and v not in blocked}
    excluded = {v for v, kind in choices.items() if kind == "exclude"}
    new_below = settings.INTENTCAST["NEW_VENDOR_MIN_RATINGS"]

    def reputation(vendor_id: int) -> tuple[int, float | None, float | None]:
        """The vendor's stored score (docs/reputation.md; how it is computed is tested in
        tests/reputation): its counting ratings, the score shown, the bound ranked by."""
        stored = VendorScore.objects.filter(vendor_id=vendor_id, ratings__gt=0).first()
        if stored is None or stored.score is None:
            return 0, None, None
        return stored.ratings, round(stored.score, 2), stored.rank_score

    def admitted(vendor_id: int) -> bool:
        ratings, score, _ = reputation(vendor_id)
        if ratings < new_below or score is None:
            return intent.audience_include_new
        return intent.audience_min_rating is None or Decimal(str(score)) >= intent.audience_min_rating

    reached = {v for v in fits if v not in excluded and (v in invited or admitted(v))}
    for vendor_id in invited - reached:
        serves = any(
            sub.active
            and sub.vendor.status == Vendor.Status.APPROVED
            and any(intent.category.path.startswith(c.path) for c in sub.categories.all())
            for sub in Subscription.objects.filter(vendor_id=vendor_id).select_related("vendor")
        )
        if serves:
            reached.add(vendor_id)
    if intent.audience_max is None or len(reached) <= intent.audience_max:
        return reached

    def rank(vendor_id: int) -> tuple:
        ratings, score, bound = reputation(vendor_id)
        rank_score = 3.0 if ratings < new_below or score is None else bound
        fit = fits.get(vendor_id, (0, 0, 0, 0))
        return (vendor_id not in invited, *(-x for x in fit), -rank_score, -ratings, vendor_id)

    return set(sorted(reached, key=rank)[: intent.audience_max])
