"""Which vendors an intent reaches (DESIGN.md, "Matching").

An inverted index (``vendors.models.SubscriptionKey``) lists every subscription under the keys it
covers: (category, keyword stem, region). The intent is expanded into its keys (its category
and the category's ancestors; its stems plus "" for subscriptions without keywords; its region
with its ancestors and descendants) and the candidates come from one indexed query, so the
cost grows with the number of candidates, not with the number of subscriptions. That query
(``vendors.selectors.match_candidates``: one statement on PostgreSQL) also drops the
vendors blocked on either side and counts the capped subscriptions' deliveries today; the
taxonomy look-ups behind the keys are remembered per process (``intents.taxonomy_cache``). The
rules the index cannot express (full keyword phrases, attribute filters, budget, daily cap) are
checked on the candidates. The same code runs on SQLite and PostgreSQL.

Then her own controls (``apply_audience``; docs/matching.md, "Who hears her"): the vendors she
excluded go, a minimum rating and her choice about new vendors are applied, the vendors she
invited are added if they serve the category, and a maximum keeps the best by fit
(``Fit``) and reputation, invited vendors first. A request without controls costs nothing more
(``Intent.audience_named`` says whether to read her named vendors); every control reads in
bulk, never per candidate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from broker.core.keywords import keyword_stems, text_stems
from intents.attributes import filters_admit
from intents.models import Category, Intent, Region
from intents.selectors import category_ancestor_ids, recent_intents, region_ancestor_lfts
from reputation.selectors import Reputation, vendor_reputations
from vendors import selectors as vendor_selectors
from vendors.models import AudienceChoice
from vendors.relationships import blocked_vendor_ids
from vendors.selectors import MATCH_FIELDS


@dataclass(frozen=True)
class Match:
    """A vendor the intent reaches, with the subscription that earned it: None for a vendor she
    invited that none of its subscriptions matched (then no daily cap counts it)."""

    vendor_id: int
    subscription_id: UUID | None
    invited: bool = False


@dataclass(frozen=True, order=True)
class Fit:
    """How specifically a subscription asked for this request, compared field by field in this
    order (more is better): the subscription's keywords found in the request, its attribute
    filters (all of which the request passed), the depth of its category that covers the
    request's (a "cars" dealer fits a car request better than a "vehicles" one), and how close its
    region is (the request's own region, or one inside it, is closest; the further up the tree
    the enclosing region, the wider). A vendor's fit is that of its best subscription."""

    keywords: int = 0
    filters: int = 0
    category_depth: int = 0
    region_depth: int = 0


NO_FIT = Fit()
# A new vendor (too few ratings to judge) is ranked as if it had this mean: the middle of the
# scale, neither favoured nor buried.
NEW_VENDOR_RANK_SCORE = 3.0


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
        category_ids=category_ancestor_ids(intent.category),
        stems=frozenset(text_stems(f"{intent.title}\n{intent.details}", intent.language)),
        region_ancestor_lfts=tuple(ancestors),
        region_lft=region.lft,
        region_rgt=region.rgt,
    )


def _candidate(sub: dict[str, Any]) -> dict[str, Any]:
    sub["keywords"] = _json(sub["keywords"])
    sub["attribute_filters"] = _json(sub["attribute_filters"])
    return sub


def _json(text: str | None) -> Any:
    if text == "[]":
        return []
    if text == "{}":
        return {}
    return _decoded(text) if text is not None else None


@lru_cache(maxsize=65_536)
def _decoded(text: str) -> Any:
    """Keywords and filters as JSON text, decoded once per distinct text: the same subscriptions
    are candidates request after request. The matcher only reads what this returns."""
    return json.loads(text)


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
    """Every vendor the intent reaches, with the subscription that earned it, one per vendor:
    the broker's rules, then hers (``apply_audience``)."""
    keys = intent_keys(intent)
    rows = vendor_selectors.match_candidates(
        category_ids=keys.category_ids,
        stems=keys.stems,
        region_lft=keys.region_lft,
        region_rgt=keys.region_rgt,
        region_ancestor_lfts=keys.region_ancestor_lfts,
        customer_id=intent.customer_id,
        since=start_of_day(now),
        excluding_intent=intent.pk,
    )
    matches: dict[int, Match] = {}
    limited = intent.has_audience_limits
    eligible: list[dict[str, Any]] = []  # every subscription that would earn its vendor the request, if she limits
    # The rules' verdict by the values they read (keywords, language, filters, minimum budget):
    # candidates repeat a few of them, so a 100,000-candidate match checks each once, and a
    # candidate costs a tuple and a look-up rather than a dict and three checks.
    verdicts: dict[tuple[Any, ...], bool] = {}
    for row in rows:
        subscription_id, vendor_id, keywords, language, filters, min_budget, currency, daily_cap, used_today = row
        if vendor_id in matches and not limited:
            continue  # the vendor's first admitted subscription (by age) is the one it is matched by
        if daily_cap is not None and used_today >= daily_cap:
            continue
        rules = (keywords, language, filters, min_budget, currency)
        admitted = verdicts.get(rules)
        if admitted is None:
            sub = _candidate(dict(zip(MATCH_FIELDS, row, strict=True)))
            admitted = verdicts[rules] = (
                keywords_admit(sub, keys.stems)
                and filters_admit(sub["attribute_filters"], intent.attributes)
                and budget_admits(sub, intent)
            )
        if not admitted:
            continue
        if limited:
            eligible.append(_candidate(dict(zip(MATCH_FIELDS, row, strict=True))))
        if vendor_id not in matches:
            matches[vendor_id] = Match(vendor_id=vendor_id, subscription_id=subscription_id)
    if not limited:
        return list(matches.values())
    choices = vendor_selectors.audience_choices(intent_id=intent.pk) if intent.audience_named else {}
    blocked = blocked_vendor_ids(customer_id=intent.customer_id) if choices else set()
    return apply_audience(intent, keys, matches, eligible, choices=choices, blocked=blocked)


def apply_audience(
    intent: Intent,
    keys: IntentKeys,
    matches: dict[int, Match],
    eligible: list[dict[str, Any]],
    *,
    choices: Mapping[int, str],
    blocked: set[int],
) -> list[Match]:
    """Her controls over the broker's ``matches``, in order: excluded vendors go; the minimum
    rating and her choice about new vendors filter the rest; invited vendors are added (they
    bypass both filters, and need only serve the category); the maximum keeps the best by
    invitation, fit and reputation. Bulk reads only."""
    excluded = {v for v, kind in choices.items() if kind == AudienceChoice.Kind.EXCLUDE}
    invited = {v for v, kind in choices.items() if kind == AudienceChoice.Kind.INVITE} - excluded - blocked
    kept = {v: m for v, m in matches.items() if v not in excluded}
    needs_reputation = intent.audience_min_rating is not None or not intent.audience_include_new
    limit = intent.audience_max
    over_limit = limit is not None and len(kept | dict.fromkeys(invited)) > limit
    reputations: dict[int, Reputation] = {}
    if needs_reputation or over_limit:
        reputations = vendor_reputations(set(kept) | invited)
    if needs_reputation:
        kept = {v: m for v, m in kept.items() if v in invited or reputation_admits(intent, reputations[v])}
    outside = invited - set(kept)
    serving = vendor_selectors.serving_subscriptions(vendor_ids=outside, category_ids=keys.category_ids)
    for vendor_id in sorted(outside & set(serving)):
        kept[vendor_id] = Match(vendor_id=vendor_id, subscription_id=None, invited=True)
    for vendor_id in invited & set(kept):
        if not kept[vendor_id].invited:
            kept[vendor_id] = Match(vendor_id=vendor_id, subscription_id=kept[vendor_id].subscription_id, invited=True)
    if limit is None or len(kept) <= limit:
        return list(kept.values())
    fits = vendor_fits(keys, [sub for sub in eligible if sub["vendor_id"] in kept])
    ranked = sorted(
        kept.values(), key=lambda m: rank_key(m, fits.get(m.vendor_id, NO_FIT), reputations.get(m.vendor_id))
    )
    return ranked[:limit]


def is_new_vendor(reputation: Reputation) -> bool:
    """Too few ratings to judge (``INTENTCAST["NEW_VENDOR_MIN_RATINGS"]``)."""
    return reputation["ratings"] < settings.INTENTCAST["NEW_VENDOR_MIN_RATINGS"] or reputation["score"] is None


def reputation_admits(intent: Intent, reputation: Reputation) -> bool:
    """A new vendor hears her if she includes new vendors; a rated one if its mean reaches her
    minimum (when she set one)."""
    if is_new_vendor(reputation):
        return intent.audience_include_new
    minimum = intent.audience_min_rating
    return minimum is None or Decimal(str(reputation["score"])) >= minimum


def rank_key(match: Match, fit: Fit, reputation: Reputation | None) -> tuple[Any, ...]:
    """Invited first, then the better fit, the better reputation (its ranking bound,
    docs/reputation.md; a new vendor counts as ``NEW_VENDOR_RANK_SCORE``), the more ratings, the
    older vendor (lower id)."""
    known: Reputation = reputation or {"ratings": 0, "score": None, "rank_score": None}
    score = NEW_VENDOR_RANK_SCORE if is_new_vendor(known) else float(known["rank_score"] or 0)
    return (
        not match.invited,
        -fit.keywords,
        -fit.filters,
        -fit.category_depth,
        -fit.region_depth,
        -score,
        -known["ratings"],
        match.vendor_id,
    )


def vendor_fits(keys: IntentKeys, subscriptions: list[dict[str, Any]]) -> dict[int, Fit]:
    """Each vendor's best ``Fit`` over its eligible subscriptions; which of the request's
    categories and regions each one covers is read from the index in one query."""
    category_depth = {category_id: depth for depth, category_id in enumerate(keys.category_ids, start=1)}
    ancestors = sorted(keys.region_ancestor_lfts)
    own_depth = len(ancestors)
    region_depth = {lft: depth for depth, lft in enumerate(ancestors)}
    covered: dict[UUID, tuple[int, int]] = {}
    rows = vendor_selectors.subscription_coverage(
        subscription_ids=[sub["id"] for sub in subscriptions],
        category_ids=keys.category_ids,
        region_lft=keys.region_lft,
        region_rgt=keys.region_rgt,
        region_ancestor_lfts=keys.region_ancestor_lfts,
    )
    for subscription_id, category_id, lft in rows:
        depth = own_depth if keys.region_lft <= lft <= keys.region_rgt else region_depth.get(lft, 0)
        best = covered.get(subscription_id, (0, 0))
        covered[subscription_id] = (max(best[0], category_depth.get(category_id, 0)), max(best[1], depth))
    fits: dict[int, Fit] = {}
    for sub in subscriptions:
        category, region = covered.get(sub["id"], (0, 0))
        keywords = sum(
            1 for keyword in sub["keywords"] or [] if keyword_stem_set(keyword, sub["language"]) <= keys.stems
        )
        fit = Fit(keywords, len(sub["attribute_filters"] or {}), category, region)
        if fit > fits.get(sub["vendor_id"], NO_FIT):
            fits[sub["vendor_id"]] = fit
    return fits


# The subscription editor's preview ------------------------------------------------------------

PREVIEW_DAYS = 30
# The most recent requests the preview reads: enough for any real category and region over a
# month, and a bound on a page the vendor waits for.
PREVIEW_LIMIT = 5000


def preview_subscription(
    *,
    categories: Sequence[Category],
    regions: Sequence[Region],
    keywords: Sequence[str],
    language: str,
    attribute_filters: Mapping[str, Any],
    min_budget: Decimal | None,
    min_budget_currency: str,
    now: datetime | None = None,
) -> int:
    """How many requests posted in the last ``PREVIEW_DAYS`` days an unsaved subscription would
    have admitted: the index's keys (category with its descendants, region overlapping), then
    the same rules ``match_intent`` checks on candidates (keywords, attribute filters, budget).
    The daily cap, blocks and each customer's own audience controls are not replayed. One query,
    at most ``PREVIEW_LIMIT`` requests."""
    if not categories or not regions:
        return 0
    since = (now or timezone.now()) - timedelta(days=PREVIEW_DAYS)
    subscription = {
        "keywords": list(keywords),
        "language": language,
        "min_budget": min_budget,
        "min_budget_currency": min_budget_currency,
    }
    intents = recent_intents(categories=categories, regions=regions, since=since)[:PREVIEW_LIMIT]
    return sum(
        1
        for intent in intents
        if keywords_admit(subscription, frozenset(text_stems(f"{intent.title}\n{intent.details}", intent.language)))
        and filters_admit(dict(attribute_filters), intent.attributes)
        and budget_admits(subscription, intent)
    )
