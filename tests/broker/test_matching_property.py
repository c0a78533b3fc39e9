"""The indexed matcher against the brute-force reference on random taxonomies, subscriptions
and requests."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from broker.pipeline.matching import match_intent
from intents.models import Category, Region
from reputation.models import Rating
from reputation.services import recompute_all
from tests.broker.reference import reference_match
from tests.factories import IntentFactory, UserFactory, VendorFactory, renumber_regions
from vendors.models import AudienceChoice, Bid, Block, Vendor
from vendors.services import save_subscription

pytestmark = pytest.mark.django_db

SCHEMA = [
    {"name": "make", "type": "enum", "choices": ["Toyota", "Ford", "Honda"]},
    {"name": "mileage", "type": "number"},
    {"name": "aircon", "type": "boolean"},
]
WORDS = ["hatchback", "hatchbacks", "Yaris", "silver", "petrol", "diesel", "cheap", "running", "runs"]
STATUSES = [Vendor.Status.APPROVED, Vendor.Status.APPROVED, Vendor.Status.PENDING, Vendor.Status.SUSPENDED]


def tree(max_size: int):
    """A random forest as a parent list: node i's parent is None or an earlier node."""
    return st.integers(1, max_size).flatmap(
        lambda n: st.tuples(*[st.one_of(st.none(), st.integers(0, i - 1)) if i else st.none() for i in range(n)])
    )


filters = st.fixed_dictionaries(
    {},
    optional={
        "make": st.builds(lambda xs: {"in": xs}, st.lists(st.sampled_from(["Toyota", "Ford", "Honda"]), min_size=1)),
        "mileage": st.one_of(
            st.builds(lambda n: {"max": n}, st.integers(0, 100_000)),
            st.builds(lambda n: {"min": n}, st.integers(0, 100_000)),
        ),
        "aircon": st.builds(lambda b: {"eq": b}, st.booleans()),
    },
)

subscription = st.fixed_dictionaries(
    {
        "vendor": st.integers(0, 4),
        "categories": st.lists(st.integers(0, 100), min_size=1, max_size=3),
        "regions": st.lists(st.integers(0, 100), min_size=1, max_size=3),
        "keywords": st.one_of(st.just([]), st.lists(st.sampled_from(WORDS + ["silver petrol", "blue"]), max_size=2)),
        "attribute_filters": st.one_of(st.just({}), filters),
        "min_budget": st.one_of(st.none(), st.integers(0, 10_000)),
        "min_budget_currency": st.sampled_from(["GBP", "EUR"]),
        "active": st.sampled_from([True, True, True, False]),
    }
)

intent_data = st.fixed_dictionaries(
    {
        "category": st.integers(0, 100),
        "region": st.integers(0, 100),
        "words": st.lists(st.sampled_from(WORDS), min_size=1, max_size=5),
        "attributes": st.fixed_dictionaries(
            {},
            optional={
                "make": st.sampled_from(["Toyota", "Ford", "Honda"]),
                "mileage": st.integers(0, 100_000),
                "aircon": st.booleans(),
            },
        ),
        "budget": st.one_of(st.none(), st.integers(0, 10_000)),
        "currency": st.sampled_from(["GBP", "EUR"]),
    }
)


# Her controls: per vendor none, invited or excluded; the most vendors; the least rating; new vendors.
audience = st.fixed_dictionaries(
    {
        "choices": st.lists(st.sampled_from([None, None, "invite", "exclude"]), min_size=5, max_size=5),
        "max": st.one_of(st.none(), st.integers(1, 4)),
        "min_rating": st.one_of(st.none(), st.sampled_from(["1.0", "2.5", "3.0", "3.7", "4.0", "4.5", "5.0"])),
        "include_new": st.booleans(),
        # Each vendor's ratings by customers (fewer than three: a new vendor).
        "ratings": st.lists(st.lists(st.integers(1, 5), max_size=4), min_size=5, max_size=5),
    }
)


def rate(vendor, category, region, scores):
    """Revealed ratings of ``vendor``, each from a customer of her own (one rating per pair
    counts, docs/reputation.md); the stored scores are recomputed after all of them."""
    for score in scores:
        past = IntentFactory(customer=UserFactory(), category=category, region=region)
        bid = Bid.objects.create(intent=past, vendor=vendor, amount=1, currency="GBP", status=Bid.Status.ACCEPTED)
        Rating.objects.create(bid=bid, by=Rating.Side.CUSTOMER, score=score, revealed_at=timezone.now())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    category_tree=tree(4),
    region_tree=tree(5),
    statuses=st.lists(st.sampled_from(STATUSES), min_size=5, max_size=5),
    subscriptions=st.lists(subscription, min_size=1, max_size=8),
    blocked=st.lists(st.integers(0, 4), max_size=2),
    data=intent_data,
    controls=st.one_of(st.none(), audience),
)
def test_indexed_matcher_agrees_with_brute_force(
    category_tree, region_tree, statuses, subscriptions, blocked, data, controls
):
    check(category_tree, region_tree, statuses, subscriptions, blocked, data, controls)


# Her controls on a small world where most vendors match: chains of three categories and three
# regions, the request at the bottom of both, so the maximum has vendors to choose from.
broad_subscription = subscription.map(
    lambda sub: {**sub, "keywords": sub["keywords"][:1], "active": True, "min_budget": None}
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    statuses=st.lists(st.sampled_from([Vendor.Status.APPROVED] * 4 + [Vendor.Status.PENDING]), min_size=5, max_size=5),
    subscriptions=st.lists(broad_subscription, min_size=4, max_size=10),
    blocked=st.lists(st.integers(0, 4), max_size=1),
    data=intent_data.map(lambda d: {**d, "category": 2, "region": 2}),
    controls=audience,
)
def test_her_controls_agree_with_brute_force(statuses, subscriptions, blocked, data, controls):
    check((None, 0, 1), (None, 0, 1), statuses, subscriptions, blocked, data, controls)


def check(category_tree, region_tree, statuses, subscriptions, blocked, data, controls):
    with transaction.atomic():
        categories: list[Category] = []
        for i, parent in enumerate(category_tree):
            category = Category.objects.create(
                slug=f"prop-{i}",
                name=f"c{i}",
                parent=categories[parent] if parent is not None else None,
                attributes=SCHEMA,
            )
            categories.append(category)
        regions: list[Region] = []
        for i, parent in enumerate(region_tree):
            regions.append(
                Region.objects.create(
                    code=f"R{i}", name=f"r{i}", kind="country", parent=regions[parent] if parent is not None else None
                )
            )
        renumber_regions()
        for node in regions:
            node.refresh_from_db()
        vendors = [VendorFactory(status=status) for status in statuses]
        customer = UserFactory(username="prop-customer")
        for vendor_index in blocked:
            Block.objects.get_or_create(customer=customer, vendor=vendors[vendor_index], blocked_by=Block.Side.CUSTOMER)
        for sub in subscriptions:
            save_subscription(
                vendor=vendors[sub["vendor"]],
                categories=[categories[i % len(categories)] for i in sub["categories"]],
                regions=[regions[i % len(regions)] for i in sub["regions"]],
                keywords=sub["keywords"],
                attribute_filters=sub["attribute_filters"],
                min_budget=Decimal(sub["min_budget"]) if sub["min_budget"] is not None else None,
                min_budget_currency=sub["min_budget_currency"] if sub["min_budget"] is not None else "",
                active=sub["active"],
            )
        intent = IntentFactory(
            customer=customer,
            title=" ".join(data["words"]) or "anything",
            category=categories[data["category"] % len(categories)],
            region=regions[data["region"] % len(regions)],
            attributes=data["attributes"],
            budget_max=Decimal(data["budget"]) if data["budget"] is not None else None,
            currency=data["currency"],
        )
        if controls is not None:
            intent.audience_max = controls["max"]
            intent.audience_min_rating = Decimal(controls["min_rating"]) if controls["min_rating"] else None
            intent.audience_include_new = controls["include_new"]
            intent.audience_named = any(controls["choices"])
            intent.save()
            for vendor, kind, scores in zip(vendors, controls["choices"], controls["ratings"], strict=True):
                rate(vendor, categories[0], regions[0], scores)
                if kind is not None:
                    AudienceChoice.objects.create(intent=intent, vendor=vendor, kind=kind)
            recompute_all()
        found = {m.vendor_id for m in match_intent(intent)}
        event(f"matched {min(len(found), 3)}+ vendors" if found else "matched none")
        if controls is not None:
            event("her controls" + (" at her maximum" if len(found) == controls["max"] else ""))
        assert found == reference_match(intent)
        transaction.set_rollback(True)
