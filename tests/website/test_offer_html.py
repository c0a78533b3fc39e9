"""The offer fragments written in Python (``broker.website.offer_html``) are byte for byte what
their templates render, for every state an offer can be in: prices against her budget, revised,
asked for better (each answer), expired, valid or open-ended, every status, and a vendor whose
name needs escaping."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import get_template
from django.utils import timezone

from broker.website.offer_html import FRAGMENTS, mark_html, offer_fragments
from broker.website.offers import Offer
from intents.comparison import Comparison
from intents.models import Intent
from vendors.models import Bid, BidCounter, BidRevision, Vendor

pytestmark = pytest.mark.django_db  # an Intent's defaults read the database

NOW = timezone.now()

REPUTATIONS = [
    {
        "ratings": 0,
        "score": None,
        "rank_score": None,
        "deliveries_due": 0,
        "answered_share": None,
        "median_hours_to_offer": None,
        "deals_completed": 0,
        "deals_fell_through": 0,
        "deals_backed_out": 0,
    },
    {
        "ratings": 1,
        "score": 4.25,
        "rank_score": 0.4,
        "deliveries_due": 9,
        "answered_share": 0.923,
        "median_hours_to_offer": 0.5,
        "deals_completed": 1,
        "deals_fell_through": 0,
        "deals_backed_out": 0,
    },
    {
        "ratings": 1200,
        "score": 3.0,
        "rank_score": 2.9,
        "deliveries_due": 9,
        "answered_share": 0.0,
        "median_hours_to_offer": 50.0,
        "deals_completed": 0,
        "deals_fell_through": 3,
        "deals_backed_out": 2,
    },
]
COUNTERS = [
    None,
    {"status": BidCounter.Status.OPEN, "target_amount": Decimal("2900.50")},
    {"status": BidCounter.Status.OPEN, "target_amount": None},
    {"status": BidCounter.Status.DECLINED, "target_amount": Decimal(1)},
    {"status": BidCounter.Status.ANSWERED, "target_amount": Decimal(1)},
    {"status": BidCounter.Status.LAPSED, "target_amount": Decimal(1)},
]
STATES = [  # (status, expired, valid_until, decline_reason)
    (Bid.Status.ACTIVE, False, None, ""),
    (Bid.Status.ACTIVE, False, NOW + timedelta(days=3, hours=2), ""),
    (Bid.Status.ACTIVE, True, NOW - timedelta(hours=1), ""),
    (Bid.Status.EXPIRED, True, NOW - timedelta(days=1), ""),
    (Bid.Status.ACCEPTED, False, None, ""),
    (Bid.Status.DECLINED, False, None, Bid.DeclineReason.PRICE),
    (Bid.Status.DECLINED, False, None, ""),
    (Bid.Status.WITHDRAWN_BY_MODERATION, False, None, ""),
]


def make_offer(n, state, counter, reputation, *, revisions, budget_difference, name):
    status, expired, valid_until, reason = state
    bid = Bid(
        amount=Decimal(3000 + n) + Decimal("0.99"),
        currency="GBP" if n % 2 else "EUR",
        status=status,
        valid_until=valid_until,
        decline_reason=reason,
        vendor=Vendor(pk=n + 1, name=name),
    )
    history = [
        BidRevision(amount=Decimal(3100 + i), currency="GBP", created_at=NOW - timedelta(days=i))
        for i in range(revisions)
    ]
    return Offer(
        bid=bid,
        reputation=reputation,
        comparison=Comparison(rows=[], fit=0, wishes=0),
        expired=expired,
        photo=None,
        revised_from=history[0].amount if history else None,
        counter=BidCounter(**counter) if counter else None,
        budget_difference=budget_difference,
        counter_changes=["Mileage 38,000 mi", "Colour <red> & “blue”"] if n % 3 == 0 else [],
        revisions=history,
        links={
            name: f"/requests/x/{name}/{n}/?a=1&b=2"
            for name in ("accept", "counter", "decline", "thread", "block", "profile", "report")
        },
    )


def cases():
    names = ["Dealer 1", 'O\'Brien & <Sons> "Motors"']
    budgets = [None, Decimal(0), Decimal(1234), Decimal(-56)]
    for n, (state, counter, reputation, name, budget) in enumerate(
        itertools.product(STATES, COUNTERS, REPUTATIONS, names, budgets)
    ):
        yield make_offer(n, state, counter, reputation, revisions=n % 3, budget_difference=budget, name=name)


@pytest.mark.parametrize("intent_status", [Intent.Status.OPEN, Intent.Status.COMPLETED])
def test_offer_fragments_are_the_bytes_their_templates_render(intent_status):
    intent = Intent(status=intent_status)
    templates = {name: get_template(path) for name, path in FRAGMENTS.items()}
    compared = 0
    for offer in cases():
        written = offer_fragments(intent, offer)
        for name, template in templates.items():
            assert written[name] == template.render({"intent": intent, "offer": offer}), (name, offer)
            compared += 1
    assert compared == len(STATES) * len(COUNTERS) * len(REPUTATIONS) * 2 * 4 * len(templates)


@pytest.mark.parametrize("mark", ["meets", "differs", "not_stated"])
@pytest.mark.parametrize("value", ["", "Toyota", "38,000 mi", "<b>&'\""])
def test_a_mark_is_the_bytes_its_template_renders(mark, value):
    template = get_template("website/_mark.html")
    assert mark_html(mark, value) == template.render({"cell": {"mark": mark, "offer": value}})
