"""The score formula (reputation.scoring), the doc's worked examples, ranking, and stored scores:
updated on every reveal, recomputed in full, the same either way."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from broker.personal_data import erase_customer
from reputation.models import CustomerScore, MarketPrior, Rating, VendorScore
from reputation.scoring import Params, Prior, decay, market_prior, posterior
from reputation.selectors import vendor_reputations
from reputation.services import recompute_all
from reputation.tasks import recompute_reputation
from tests.factories import UserFactory, VendorFactory

DOC = Path(__file__).resolve().parents[2] / "docs" / "reputation.md"
TWO_YEARS = timedelta(days=730)


def _examples(params: Params) -> dict[str, tuple[list[tuple[int, float]], Prior]]:
    default = Prior(params.default_mean, params.default_variance, 0)
    market = market_prior([5] * 20 + [4] * 10 + [3] * 5 + [1] * 5, params)
    old = decay(TWO_YEARS, params)
    return {
        "A": ([(5, 1.0)], default),
        "B": ([(5, 1.0)] * 32 + [(4, 1.0)] * 8, default),
        "C": ([(5, 1.0)] * 10, default),
        "D": ([(2, 1.0)] * 3, default),
        "E": ([(1, old)] * 5 + [(5, 1.0)] * 5, default),
        "F": ([(5, old)] * 5 + [(1, 1.0)] * 5, default),
        "AM": ([(5, 1.0)], market),
    }


def test_the_docs_worked_examples_are_what_the_code_computes():
    params = Params.from_settings()
    doc = DOC.read_text()
    for name, (points, prior) in _examples(params).items():
        score = posterior(points, prior, params)
        if name == "AM":
            assert f"shows {score.score:.2f} but ranks at {score.rank_score:.2f} (example AM)" in doc
            continue
        row = re.search(rf"^\| {name} \| [^|]+ \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", doc, re.MULTILINE)
        assert row is not None, name
        assert row.groups() == (f"{score.weight:.2f}", f"{score.score:.2f}", f"{score.rank_score:.2f}"), name
    market = market_prior([5] * 20 + [4] * 10 + [3] * 5 + [1] * 5, params)
    assert f"`mu0 = {market.mean:.2f}` and `s0 = {market.variance:.2f}` (example M)" in doc
    assert "`rank = 4.1667 − 1.645 × √(0.9722 / 6) = 4.1667 − 0.6622 = 3.50`" in doc


def test_one_five_does_not_outrank_forty_ratings_of_four_point_eight():
    params = Params.from_settings()
    prior = Prior(params.default_mean, params.default_variance, 0)
    one = posterior([(5, 1.0)], prior, params)
    forty = posterior([(5, 1.0)] * 32 + [(4, 1.0)] * 8, prior, params)
    assert forty.rank_score > one.rank_score
    assert forty.score > one.score  # shrunk towards the prior, one 5 is not "perfect" either


def test_a_thin_market_uses_the_default_prior_and_a_full_one_its_own():
    params = Params.from_settings()
    assert market_prior([5] * 29, params) == Prior(4.0, 1.0, 29)
    # All agree: the variance is floored, so nobody looks certain.
    assert market_prior([5] * 30, params) == Prior(5.0, params.min_variance, 30)


def test_a_rating_half_a_life_old_weighs_half():
    params = Params.from_settings()
    assert decay(timedelta(days=params.half_life_days), params) == pytest.approx(0.5)
    assert decay(timedelta(0), params) == 1.0


@pytest.mark.django_db
def test_stored_ranking_one_five_against_forty_four_point_eights(make_deal):
    """End to end: ratings in the database, scores recomputed and read as the website reads them."""
    newcomer, established = VendorFactory(name="Newcomer"), VendorFactory(name="Established")
    Rating.objects.create(
        bid=make_deal(UserFactory(), newcomer), by=Rating.Side.CUSTOMER, score=5, revealed_at=timezone.now()
    )
    for i in range(40):
        Rating.objects.create(
            bid=make_deal(UserFactory(), established),
            by=Rating.Side.CUSTOMER,
            score=5 if i < 32 else 4,
            revealed_at=timezone.now(),
        )
    recompute_all()
    found = vendor_reputations([newcomer.pk, established.pk])
    assert found[newcomer.pk]["ratings"] == 1 and found[established.pk]["ratings"] == 40
    assert found[established.pk]["rank_score"] > found[newcomer.pk]["rank_score"]
    # 41 ratings: the market's own prior (mean 4.81) now stands in for the default.
    assert MarketPrior.objects.get(side=Rating.Side.CUSTOMER).mean == pytest.approx(4.8049, abs=1e-4)


def _stored():
    return {
        "vendors": {
            s.vendor_id: (s.ratings, s.weight, s.score, s.rank_score, s.computed_at) for s in VendorScore.objects.all()
        },
        "customers": {
            s.customer_id: (s.ratings, s.weight, s.score, s.rank_score, s.computed_at)
            for s in CustomerScore.objects.all()
        },
    }


def _market(make_deal, rate_both, now, vendors, customers, scores):
    for i, score in enumerate(scores):
        rate_both(make_deal(customers[i % len(customers)], vendors[i % len(vendors)]), score, 6 - score, now=now)


@pytest.mark.django_db
def test_incremental_updates_and_the_full_recompute_store_the_same_numbers(make_deal, rate_both):
    now = timezone.now() + timedelta(hours=1)
    vendors = [VendorFactory() for _ in range(3)]
    customers = [UserFactory() for _ in range(4)]
    _market(make_deal, rate_both, now, vendors, customers, [5, 4, 1, 3, 5, 2, 4, 5])
    incremental = _stored()
    assert len(incremental["vendors"]) == 3 and len(incremental["customers"]) == 4
    assert sum(v[0] for v in incremental["vendors"].values()) == 8
    recompute_all(now=now)
    assert _stored() == incremental


@pytest.mark.django_db
def test_after_the_market_prior_is_refreshed_increments_still_match_the_recompute(make_deal, rate_both, settings):
    settings.INTENTCAST = {
        **settings.INTENTCAST,
        "REPUTATION": {**settings.INTENTCAST["REPUTATION"], "MIN_MARKET_RATINGS": 3},
    }
    now = timezone.now() + timedelta(hours=1)
    vendors = [VendorFactory() for _ in range(2)]
    customers = [UserFactory() for _ in range(5)]
    _market(make_deal, rate_both, now, vendors, customers, [5, 1, 4, 2])
    recompute_all(now=now)  # what beat runs: the market's prior from these four ratings per side
    prior = MarketPrior.objects.get(side=Rating.Side.CUSTOMER)
    assert (prior.mean, prior.ratings) == (3.0, 4)
    _market(make_deal, rate_both, now, vendors, customers, [5, 5, 3])
    incremental = _stored()
    recompute_all(now=now, refresh_prior=False)
    assert _stored() == incremental


@pytest.mark.django_db
def test_a_party_whose_ratings_are_gone_loses_its_stored_score(make_deal, rate_both):
    bid = make_deal(UserFactory(), VendorFactory())
    rate_both(bid, 4)
    assert VendorScore.objects.filter(vendor=bid.vendor).exists()
    Rating.objects.all().delete()  # e.g. the customer erased her account
    recompute_all()
    assert not VendorScore.objects.exists() and not CustomerScore.objects.exists()


@pytest.mark.django_db
def test_beat_recomputes_every_hour(settings, make_deal, rate_both):
    assert settings.CELERY_BEAT_SCHEDULE["recompute-reputation"]["task"] == "reputation.tasks.recompute_reputation"
    rate_both(make_deal(UserFactory(), VendorFactory()), 4)
    VendorScore.objects.all().delete()
    assert recompute_reputation() == {"vendors": 1, "customers": 1}
    assert VendorScore.objects.get().ratings == 1


@pytest.mark.django_db
def test_an_erased_customers_ratings_leave_the_vendors_score_at_once(make_deal, rate_both):
    customer, vendor = UserFactory(), VendorFactory()
    rate_both(make_deal(customer, vendor), 5)
    rate_both(make_deal(UserFactory(), vendor), 3)
    assert VendorScore.objects.get(vendor=vendor).ratings == 2
    erase_customer(customer=customer)
    assert VendorScore.objects.get(vendor=vendor).ratings == 1
