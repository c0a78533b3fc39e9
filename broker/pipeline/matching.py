"""Which vendors an intent reaches (DESIGN.md, "Matching").

An inverted index (``vendors.models.SubscriptionKey``) lists every subscription under the keys it
covers: (category, keyword stem, region). The intent is expanded into its keys (its category
and the category's ancestors; its stems plus "" for subscriptions without keywords; its region
with its ancestors and descendants) and the candidates come from one indexed query, so the
cost grows with the number of candidates, not with the number of subscriptions. The rules the
index cannot express (full keyword phrases, attribute filters, budget, daily cap, blocks) are
checked on the candidates. The same code runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone

from broker.core.keywords import keyword_stems, text_stems
from intents.attributes import filters_admit
from intents.models import Intent
from intents.selectors import region_ancestor_lfts
from vendors import selectors as vendor_selectors
from vendors.models import Subscription
from vendors.relationships import blocked_vendor_ids
from vendors.selectors import CANDIDATE_FIELDS


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
    ancestors = region_ancestor_lfts(region)
    return IntentKeys(
        category_ids=tuple(intent.category.ancestor_ids),
        stems=frozenset(text_stems(f"{intent.title}\n{intent.details}", intent.language)),
        region_ancestor_lfts=tuple(ancestors),
        region_lft=region.lft,
        region_rgt=region.rgt,
    )


def candidate_rows(keys: IntentKeys) -> QuerySet[Subscription, tuple[Any, ...]]:
    """The index query for the intent's keys (``vendors.selectors.candidate_subscriptions``)."""
    return vendor_selectors.candidate_subscriptions(
        category_ids=keys.category_ids,
        stems=keys.stems,
        region_lft=keys.region_lft,
        region_rgt=keys.region_rgt,
        region_ancestor_lfts=keys.region_ancestor_lfts,
    )


def candidate_subscriptions(keys: IntentKeys) -> Iterator[dict[str, Any]]:
    """Active subscriptions of approved vendors listed under the intent's keys."""
    for row in candidate_rows(keys):
        sub = dict(zip(CANDIDATE_FIELDS, row, strict=True))
        sub["keywords"] = _json(sub["keywords"])
        sub["attribute_filters"] = _json(sub["attribute_filters"])
        yield sub


def _json(text: str | None) -> Any:
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


def keywords_admit(subscription: Mapping[str, Any], stems: frozenset[str]) -> bool:
    keywords = subscription["keywords"]
    if not keywords:
        return True
    return any(keyword_stem_set(keyword, subscription["language"]) <= stems for keyword in keywords)


def budget_admits(subscription: Mapping[str, Any], intent: Intent) -> bool:
    """The intent's budget is at least the minimum, where both are set. Amounts in different
    currencies are not compared (the broker holds no exchange rates), so they do not exclude."""
    minimum: Decimal | None = subscription["min_budget"]
    if minimum is None or intent.budget_max is None:
        return True
    if subscription["min_budget_currency"] and subscription["min_budget_currency"] != intent.currency:
        return True
    return intent.budget_max >= minimum


def start_of_day(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now or timezone.now())
    return timezone.make_aware(datetime.combine(now.date(), time.min), now.tzinfo)


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
    used = vendor_selectors.deliveries_today(capped, since=start_of_day(now), excluding_intent=intent.pk)
    blocked = blocked_vendor_ids(customer_id=intent.customer_id)
    matches: dict[int, Match] = {}
    for sub in admitted:
        if sub["vendor_id"] in matches or sub["vendor_id"] in blocked:
            continue
        if sub["daily_cap"] is not None and used.get(sub["id"], 0) >= sub["daily_cap"]:
            continue
        matches[sub["vendor_id"]] = Match(vendor_id=sub["vendor_id"], subscription_id=sub["id"])
    return list(matches.values())
