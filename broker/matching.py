"""Which vendors an intent reaches (DESIGN.md, "Matching").

An inverted index (``vendors.SubscriptionKey``) lists every subscription under the keys it
covers: (category, keyword stem, region). The intent is expanded into its keys (its category
and the category's ancestors; its stems plus "" for subscriptions without keywords; its region
with its ancestors and descendants) and the candidates come from one indexed query, so the
cost grows with the number of candidates, not with the number of subscriptions. The rules the
index cannot express (full keyword phrases, attribute filters, budget, daily cap, blocks) are
checked on the candidates. The same code runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from uuid import UUID

from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from broker.keywords import keyword_stems, text_stems
from intents.attributes import filters_admit
from intents.models import Block, Intent, Region
from vendors.models import Subscription, SubscriptionKey, Vendor


@dataclass(frozen=True)
class Match:
    vendor_id: int
    subscription_id: UUID


@dataclass(frozen=True)
class IntentKeys:
    category_ids: tuple[int, ...]
    stems: frozenset[str]
    region_ancestor_lfts: tuple[int, ...]
    region_lft: int
    region_rgt: int


def intent_keys(intent: Intent) -> IntentKeys:
    region = intent.region
    ancestors = Region.objects.filter(lft__lt=region.lft, rgt__gt=region.rgt).values_list("lft", flat=True)
    return IntentKeys(
        category_ids=tuple(intent.category.ancestor_ids),
        stems=frozenset(text_stems(f"{intent.title}\n{intent.details}", intent.language)),
        region_ancestor_lfts=tuple(ancestors),
        region_lft=region.lft,
        region_rgt=region.rgt,
    )


CANDIDATE_FIELDS = (
    "id",
    "vendor_id",
    "keywords",
    "language",
    "attribute_filters",
    "min_budget",
    "min_budget_currency",
    "daily_cap",
)


def candidate_queryset(keys: IntentKeys):
    """Active subscriptions of approved vendors listed under the intent's keys, as rows of
    ``CANDIDATE_FIELDS`` with the JSON columns as text."""
    region_overlap = Q(region_lft__gte=keys.region_lft, region_lft__lte=keys.region_rgt)
    if keys.region_ancestor_lfts:
        region_overlap |= Q(region_lft__in=keys.region_ancestor_lfts)
    listed = SubscriptionKey.objects.filter(
        region_overlap, category_id__in=keys.category_ids, stem__in=[*keys.stems, ""]
    ).values("subscription_id")
    return (
        Subscription.objects.filter(pk__in=listed, active=True, vendor__status=Vendor.Status.APPROVED)
        .order_by("vendor_id", "created_at", "id")
        # The JSON columns as text, decoded here: most are empty, and a popular intent has
        # thousands of candidates, for which the JSON decoder would be the slowest part.
        .annotate(keywords_text=Cast("keywords", TextField()), filters_text=Cast("attribute_filters", TextField()))
        .values_list(
            "id",
            "vendor_id",
            "keywords_text",
            "language",
            "filters_text",
            "min_budget",
            "min_budget_currency",
            "daily_cap",
        )
    )


def candidate_subscriptions(keys: IntentKeys) -> Iterable[dict]:
    """Active subscriptions of approved vendors listed under the intent's keys."""
    for row in candidate_queryset(keys):
        sub = dict(zip(CANDIDATE_FIELDS, row, strict=True))
        sub["keywords"] = _json(sub["keywords"])
        sub["attribute_filters"] = _json(sub["attribute_filters"])
        yield sub


def _json(text: str | None):
    if text == "[]":
        return []
    if text == "{}":
        return {}
    return json.loads(text) if text is not None else None


@lru_cache(maxsize=65_536)
def keyword_stem_set(keyword: str, language: str) -> frozenset[str]:
    """A keyword's stems; cached, because the same subscriptions are candidates again and again
    and stemming costs more than the rest of the check."""
    return frozenset(keyword_stems(keyword, language))


def keywords_admit(subscription: dict, stems: frozenset[str]) -> bool:
    keywords = subscription["keywords"]
    if not keywords:
        return True
    return any(keyword_stem_set(keyword, subscription["language"]) <= stems for keyword in keywords)


def budget_admits(subscription: dict, intent: Intent) -> bool:
    """The intent's budget is at least the minimum, where both are set. Amounts in different
    currencies are not compared (the broker holds no exchange rates), so they do not exclude."""
    minimum = subscription["min_budget"]
    if minimum is None or intent.budget_max is None:
        return True
    if subscription["min_budget_currency"] and subscription["min_budget_currency"] != intent.currency:
        return True
    return intent.budget_max >= minimum


def start_of_day(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now or timezone.now())
    return timezone.make_aware(datetime.combine(now.date(), time.min), now.tzinfo)


def deliveries_today(subscription_ids: list[UUID], *, excluding_intent: UUID, now: datetime | None = None) -> dict:
    from broker.models import Delivery

    if not subscription_ids:
        return {}
    rows = (
        Delivery.objects.filter(subscription_id__in=subscription_ids, created_at__gte=start_of_day(now))
        .exclude(intent_id=excluding_intent)
        .values("subscription_id")
        .annotate(n=Count("id"))
    )
    return {row["subscription_id"]: row["n"] for row in rows}


def match_intent(intent: Intent, *, now: datetime | None = None) -> list[Match]:
    """Every vendor the intent reaches, with the subscription that earned it, one per vendor."""
    keys = intent_keys(intent)
    admitted = [
        sub
        for sub in candidate_subscriptions(keys)
        if keywords_admit(sub, keys.stems)
        and filters_admit(sub["attribute_filters"], intent.attributes)
        and budget_admits(sub, intent)
    ]
    capped = [sub["id"] for sub in admitted if sub["daily_cap"] is not None]
    used = deliveries_today(capped, excluding_intent=intent.pk, now=now)
    # A customer blocks few vendors, so reading all her blocks beats an IN list of every match.
    blocked = set(Block.objects.filter(customer_id=intent.customer_id).values_list("vendor_id", flat=True))
    matches: dict[int, Match] = {}
    for sub in admitted:
        if sub["vendor_id"] in matches or sub["vendor_id"] in blocked:
            continue
        if sub["daily_cap"] is not None and used.get(sub["id"], 0) >= sub["daily_cap"]:
            continue
        matches[sub["vendor_id"]] = Match(vendor_id=sub["vendor_id"], subscription_id=sub["id"])
    return list(matches.values())
