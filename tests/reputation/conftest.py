from datetime import timedelta

import pytest
from django.utils import timezone

from intents.models import Intent
from reputation.models import Rating
from reputation.services import rate
from tests.factories import IntentFactory
from vendors.models import Bid, DealOutcome


@pytest.fixture
def make_deal(categories, regions):
    """A completed deal between ``customer`` and ``vendor``, written directly (the deal's own
    tests cover how it gets there), agreed ``days_ago`` days ago."""

    def make(customer, vendor, *, days_ago: float = 0, status: str = Intent.Status.COMPLETED) -> Bid:
        when = timezone.now() - timedelta(days=days_ago)
        intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"], status=status)
        bid = Bid.objects.create(
            intent=intent,
            vendor=vendor,
            amount=1000,
            currency="GBP",
            terms_accepted={},
            status=Bid.Status.ACCEPTED,
            decided_at=when,
        )
        if status == Intent.Status.COMPLETED:
            outcome = DealOutcome.objects.create(bid=bid, side=DealOutcome.Side.CUSTOMER, outcome="completed")
            DealOutcome.objects.filter(pk=outcome.pk).update(created_at=when)
        return bid

    return make


@pytest.fixture
def rate_both():
    """Both sides rate a deal through the service, which reveals the ratings and refreshes both
    parties' stored scores at ``now``. With ``days_ago`` both ratings are dated back (after the
    fact: call ``recompute_all`` before reading scores that depend on their age)."""

    def rate_both_(bid, customer_score: int, vendor_score: int = 5, *, days_ago: float = 0, now=None):
        now = now or timezone.now() - timedelta(days=days_ago)
        given = [
            rate(bid=bid, by=Rating.Side.CUSTOMER, score=customer_score, now=now),
            rate(bid=bid, by=Rating.Side.VENDOR, score=vendor_score, now=now),
        ]
        if days_ago:
            Rating.objects.filter(pk__in=[r.pk for r in given]).update(
                created_at=timezone.now() - timedelta(days=days_ago)
            )
        return given

    return rate_both_
