"""Who hears her: each of her controls over the matcher (docs/matching.md), checked against the
brute-force reference too, and the services that publish and amend a request with them."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from broker.pipeline.audience import amend_with_audience, publish_with_audience
from broker.pipeline.matching import match_intent
from intents.models import Intent
from reputation.models import Rating
from reputation.services import recompute_all
from tests.broker.reference import reference_match
from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors.models import AudienceChoice, Bid, Block, Delivery, Message, Vendor
from vendors.selectors import history_vendor_ids
from vendors.services import save_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def past(customer, categories, regions):
    """One of her earlier requests: the vendors it reached are her history."""
    return IntentFactory(customer=customer, title="An earlier car", category=categories["cars"], region=regions["GB"])


@pytest.fixture
def yaris(customer, categories, regions):
    return IntentFactory(
        customer=customer,
        title="Low-mileage Toyota Yaris",
        details="Silver, petrol, hatchback.",
        category=categories["cars"],
        region=regions["GB-LND"],
        attributes={"make": "Toyota", "mileage": 40000},
        budget_max=Decimal("4000"),
        currency="GBP",
    )


def dealer(categories, regions, *, category="cars", region="GB", name=None, **data):
    vendor = VendorFactory(**({"name": name} if name else {}))
    save_subscription(vendor=vendor, categories=[categories[category]], regions=[regions[region]], **data)
    return vendor


def rated(vendor, past, *scores):
    """Customers' visible ratings of ``vendor``'s deals, each from a customer of its own (one
    rating per pair counts), and the stored scores brought up to date."""
    for score in scores:
        intent = IntentFactory(customer=UserFactory(), category=past.category, region=past.region)
        bid = Bid.objects.create(intent=intent, vendor=vendor, amount=1, currency="GBP", status=Bid.Status.ACCEPTED)
        Rating.objects.create(bid=bid, by=Rating.Side.CUSTOMER, score=score, revealed_at=timezone.now())
    recompute_all()
    return vendor


def controls(intent, **fields):
    for field, value in fields.items():
        setattr(intent, field, value)
    intent.save()
    return intent


def choose(intent, vendor, kind):
    """She names a vendor for the request (as ``publish_with_audience`` records it)."""
    AudienceChoice.objects.create(intent=intent, vendor=vendor, kind=kind)
    controls(intent, audience_named=True)


def reached(intent) -> set[int]:
    found = {m.vendor_id for m in match_intent(intent)}
    assert found == reference_match(intent)
    return found


def test_a_request_without_controls_reads_nothing_more(yaris, categories, regions):
    for _ in range(3):
        dealer(categories, regions)
    with CaptureQueriesContext(connection) as plain:
        match_intent(yaris)
    tables = " ".join(query["sql"] for query in plain.captured_queries)
    assert "vendors_audiencechoice" not in tables and "reputation_rating" not in tables
    # With controls, every one of them is read in bulk: the count does not grow with the vendors.
    controls(yaris, audience_max=2, audience_min_rating=Decimal("4"))
    with CaptureQueriesContext(connection) as few:
        match_intent(yaris)
    for _ in range(10):
        dealer(categories, regions)
    with CaptureQueriesContext(connection) as many:
        assert len(match_intent(yaris)) == 2
    assert len(many.captured_queries) == len(few.captured_queries)


# The maximum ---------------------------------------------------------------------------------


def test_without_controls_every_matching_vendor_hears_her(yaris, categories, regions):
    vendors = {dealer(categories, regions).pk for _ in range(4)}
    assert reached(yaris) == vendors


def test_maximum_keeps_the_best_fitting_vendors(yaris, categories, regions):
    keywords = dealer(categories, regions, keywords=["Yaris"])
    filters = dealer(categories, regions, attribute_filters={"make": {"in": ["Toyota"]}})
    cars_london = dealer(categories, regions, region="GB-LND")
    cars_gb = dealer(categories, regions)
    vehicles_gb = dealer(categories, regions, category="vehicles")
    controls(yaris, audience_max=1)
    assert reached(yaris) == {keywords.pk}
    controls(yaris, audience_max=2)
    assert reached(yaris) == {keywords.pk, filters.pk}
    controls(yaris, audience_max=3)
    assert reached(yaris) == {keywords.pk, filters.pk, cars_london.pk}  # London is closer than GB
    controls(yaris, audience_max=4)
    assert reached(yaris) == {keywords.pk, filters.pk, cars_london.pk, cars_gb.pk}  # cars is deeper than vehicles
    assert vehicles_gb.pk not in reached(yaris)


def test_maximum_chooses_by_reputation_when_the_fit_is_equal(yaris, past, categories, regions):
    excellent = rated(dealer(categories, regions), past, 5, 5, 4)
    middling = rated(dealer(categories, regions), past, 3, 3, 3)
    poor = rated(dealer(categories, regions), past, 1, 2, 1)
    new = rated(dealer(categories, regions), past, 5)  # one rating: new, ranked as 3 stars
    controls(yaris, audience_max=1)
    assert reached(yaris) == {excellent.pk}
    controls(yaris, audience_max=2)
    assert reached(yaris) == {excellent.pk, middling.pk}  # the same 3 stars, more ratings
    controls(yaris, audience_max=3)
    assert reached(yaris) == {excellent.pk, middling.pk, new.pk}
    assert poor.pk not in reached(yaris)


def test_fit_comes_before_reputation(yaris, past, categories, regions):
    specific = dealer(categories, regions, keywords=["Yaris"])
    rated(dealer(categories, regions), past, 5, 5, 5)
    controls(yaris, audience_max=1)
    assert reached(yaris) == {specific.pk}


# The minimum rating and new vendors ------------------------------------------------------------


def test_minimum_rating_keeps_vendors_rated_at_least_that(yaris, past, categories, regions):
    good = rated(dealer(categories, regions), past, 5, 4, 4)  # 4.33
    exact = rated(dealer(categories, regions), past, 4, 4, 4)
    low = rated(dealer(categories, regions), past, 4, 3, 4)  # 3.67
    controls(yaris, audience_min_rating=Decimal("4.0"))
    assert reached(yaris) == {good.pk, exact.pk}
    assert low.pk not in reached(yaris)


def test_minimum_rating_with_new_vendors_included(yaris, past, categories, regions):
    # Three 5s score (5 x 4.0 + 15) / 8 = 4.38: the prior of a young market (docs/reputation.md).
    good = rated(dealer(categories, regions), past, 5, 5, 5)
    new_unrated = dealer(categories, regions)
    new_few = rated(dealer(categories, regions), past, 1, 1)  # two ratings: still new
    rated(dealer(categories, regions), past, 2, 2, 2)
    controls(yaris, audience_min_rating=Decimal("4.3"), audience_include_new=True)
    assert reached(yaris) == {good.pk, new_unrated.pk, new_few.pk}


def test_minimum_rating_without_new_vendors(yaris, past, categories, regions):
    # Three 5s score (5 x 4.0 + 15) / 8 = 4.38: the prior of a young market (docs/reputation.md).
    good = rated(dealer(categories, regions), past, 5, 5, 5)
    dealer(categories, regions)
    rated(dealer(categories, regions), past, 5, 5)
    controls(yaris, audience_min_rating=Decimal("4.3"), audience_include_new=False)
    assert reached(yaris) == {good.pk}


def test_leaving_out_new_vendors_without_a_minimum(yaris, past, categories, regions, settings):
    settings.INTENTCAST = {**settings.INTENTCAST, "NEW_VENDOR_MIN_RATINGS": 2}
    poor = rated(dealer(categories, regions), past, 1, 2)  # two ratings count as judged here
    dealer(categories, regions)
    controls(yaris, audience_include_new=False)
    assert reached(yaris) == {poor.pk}


# Invitations ---------------------------------------------------------------------------------


def test_invited_vendor_hears_her_outside_its_subscriptions(yaris, categories, regions):
    # France, a keyword and a budget that keep it away from this request; it still sells cars.
    elsewhere = dealer(
        categories, regions, region="FR", keywords=["diesel"], min_budget=Decimal("9000"), min_budget_currency="GBP"
    )
    assert elsewhere.pk not in reached(yaris)
    choose(yaris, elsewhere, AudienceChoice.Kind.INVITE)
    assert elsewhere.pk in reached(yaris)
    match = next(m for m in match_intent(yaris) if m.vendor_id == elsewhere.pk)
    assert match.invited and match.subscription_id is None  # no daily cap counts an invitation


def test_invited_vendor_serving_an_ancestor_category_hears_her(yaris, categories, regions):
    vehicles = dealer(categories, regions, category="vehicles", region="FR")
    choose(yaris, vehicles, AudienceChoice.Kind.INVITE)
    assert vehicles.pk in reached(yaris)


def test_invited_vendor_that_does_not_serve_the_category_is_not_told(yaris, categories, regions):
    phones = dealer(categories, regions, category="phones")
    vans = dealer(categories, regions, category="vans")
    dormant = VendorFactory()
    save_subscription(vendor=dormant, categories=[categories["cars"]], regions=[regions["GB"]], active=False)
    nothing = VendorFactory()
    suspended = dealer(categories, regions, region="FR")
    Vendor.objects.filter(pk=suspended.pk).update(status=Vendor.Status.SUSPENDED)
    for vendor in (phones, vans, dormant, nothing, suspended):
        choose(yaris, vendor, AudienceChoice.Kind.INVITE)
    assert reached(yaris) == set()


def test_invited_vendors_come_first_under_the_maximum_and_skip_the_rating_filters(yaris, past, categories, regions):
    invited = rated(dealer(categories, regions, region="FR"), past, 1, 1, 1)
    best = dealer(categories, regions, keywords=["Yaris"])
    choose(yaris, invited, AudienceChoice.Kind.INVITE)
    controls(yaris, audience_max=1, audience_min_rating=Decimal("4"), audience_include_new=False)
    assert reached(yaris) == {invited.pk}
    controls(yaris, audience_max=2)
    assert reached(yaris) == {invited.pk}  # best is new, and she left new vendors out
    controls(yaris, audience_include_new=True)
    assert reached(yaris) == {invited.pk, best.pk}


def test_a_blocked_vendor_is_not_reached_even_when_invited(yaris, customer, categories, regions):
    vendor = dealer(categories, regions)
    choose(yaris, vendor, AudienceChoice.Kind.INVITE)
    Block.objects.create(customer=customer, vendor=vendor, blocked_by=Block.Side.VENDOR)
    assert reached(yaris) == set()


# Exclusions ----------------------------------------------------------------------------------


def test_excluded_vendor_is_not_told(yaris, categories, regions):
    kept = dealer(categories, regions)
    left_out = dealer(categories, regions, keywords=["Yaris"])
    choose(yaris, left_out, AudienceChoice.Kind.EXCLUDE)
    assert reached(yaris) == {kept.pk}
    controls(yaris, audience_max=1)  # the best fit is gone; the next one fills the place
    assert reached(yaris) == {kept.pk}


# Publishing and amending with an audience ----------------------------------------------------


def request_fields(categories, regions, **data):
    return {
        "title": "Low-mileage Toyota Yaris",
        "details": "Silver, petrol.",
        "category": categories["cars"],
        "region": regions["GB-LND"],
        "budget_max": Decimal("4000"),
        "currency": "GBP",
        **data,
    }


def test_publish_with_audience_casts_to_her_audience(
    customer, past, categories, regions, django_capture_on_commit_callbacks
):
    friend = dealer(categories, regions, region="FR", name="Friendly Motors")
    pushy = dealer(categories, regions, name="Pushy Cars")
    others = [dealer(categories, regions, keywords=["Yaris"]), dealer(categories, regions)]
    for vendor in (friend, pushy):
        Delivery.objects.create(intent=past, vendor=vendor)
    with django_capture_on_commit_callbacks(execute=True):
        intent = publish_with_audience(
            customer=customer,
            invite=[friend.pk],
            exclude=[pushy.pk],
            audience_max=2,
            **request_fields(categories, regions),
        )
    assert intent.audience_max == 2
    assert set(Delivery.objects.filter(intent=intent).values_list("vendor_id", flat=True)) == {friend.pk, others[0].pk}


def test_amendment_respects_her_controls(customer, past, categories, regions, django_capture_on_commit_callbacks):
    first = dealer(categories, regions, keywords=["Yaris"])
    second = dealer(categories, regions, region="GB-LND")
    third = dealer(categories, regions)
    Delivery.objects.create(intent=past, vendor=first)
    with django_capture_on_commit_callbacks(execute=True):
        intent = publish_with_audience(customer=customer, audience_max=2, **request_fields(categories, regions))
    current = Delivery.objects.filter(intent=intent, withdrawn_at__isnull=True)
    assert set(current.values_list("vendor_id", flat=True)) == {first.pk, second.pk}
    # She amends the details; her maximum still holds, and an exclusion takes effect.
    with django_capture_on_commit_callbacks(execute=True):
        amend_with_audience(
            customer=customer,
            intent_id=intent.pk,
            details="Silver, petrol, any trim.",
            attributes={},
            budget_max=Decimal("4500"),
            audience={"audience_max": 2, "audience_min_rating": None, "audience_include_new": True},
            exclude=[first.pk],
        )
    assert set(current.values_list("vendor_id", flat=True)) == {second.pk, third.pk}
    intent.refresh_from_db()
    assert intent.revision == 2
    # She invites the vendor she had left out and allows one vendor: the invited one alone.
    with django_capture_on_commit_callbacks(execute=True):
        amend_with_audience(
            customer=customer,
            intent_id=intent.pk,
            details="Silver, petrol, any trim.",
            attributes={},
            budget_max=Decimal("4500"),
            audience={"audience_max": 1, "audience_min_rating": None, "audience_include_new": True},
            invite=[first.pk],
        )
    assert set(current.values_list("vendor_id", flat=True)) == {first.pk}


@pytest.mark.parametrize(
    ("audience", "field"),
    [
        ({"audience_max": 0}, "audience_max"),
        ({"audience_max": 501}, "audience_max"),
        ({"audience_max": "ten"}, "audience_max"),
        ({"audience_min_rating": Decimal("0.5")}, "audience_min_rating"),
        ({"audience_min_rating": Decimal("5.5")}, "audience_min_rating"),
        ({"audience_min_rating": Decimal("4.25")}, "audience_min_rating"),
        ({"audience_min_rating": "lots"}, "audience_min_rating"),
    ],
)
def test_bad_audience_controls_save_nothing(customer, categories, regions, audience, field):
    with pytest.raises(ValidationError) as caught:
        publish_with_audience(customer=customer, **request_fields(categories, regions), **audience)
    assert field in caught.value.message_dict
    assert not Intent.objects.exists()


def test_only_vendors_of_her_history_can_be_named(customer, past, categories, regions):
    stranger = dealer(categories, regions)
    known = dealer(categories, regions)
    Delivery.objects.create(intent=past, vendor=known)
    with pytest.raises(ValidationError) as caught:
        publish_with_audience(
            customer=customer, invite=[stranger.pk], exclude=[stranger.pk], **request_fields(categories, regions)
        )
    assert set(caught.value.message_dict) == {"invite", "exclude"}
    with pytest.raises(ValidationError) as caught:
        publish_with_audience(
            customer=customer, invite=[known.pk], exclude=[known.pk], **request_fields(categories, regions)
        )
    assert "exclude" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:  # a valid audience on a bad request: nothing either
        publish_with_audience(customer=customer, invite=[known.pk], **request_fields(categories, regions, title=""))
    assert "title" in caught.value.message_dict
    assert Intent.objects.filter(customer=customer).count() == 1  # only the past one
    assert not AudienceChoice.objects.exists()


def test_invitations_must_fit_under_her_maximum(customer, past, categories, regions):
    a, b = dealer(categories, regions), dealer(categories, regions)
    for vendor in (a, b):
        Delivery.objects.create(intent=past, vendor=vendor)
    with pytest.raises(ValidationError) as caught:
        publish_with_audience(
            customer=customer, invite=[a.pk, b.pk], audience_max=1, **request_fields(categories, regions)
        )
    assert "allow at least 2" in caught.value.message_dict["audience_max"][0]
    assert Intent.objects.filter(customer=customer).count() == 1


def test_her_history_holds_vendors_delivered_to_bid_or_messaged(customer, categories, regions):
    delivered, bid, messaged, other = (VendorFactory() for _ in range(4))
    mine = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"])
    theirs = IntentFactory(category=categories["cars"], region=regions["GB"])
    Delivery.objects.create(intent=mine, vendor=delivered)
    Bid.objects.create(intent=mine, vendor=bid, amount=1, currency="GBP")
    Message.objects.create(intent=mine, vendor=messaged, sender="vendor", body="Hello")
    Delivery.objects.create(intent=theirs, vendor=other)
    assert history_vendor_ids(customer_id=customer.pk) == {delivered.pk, bid.pk, messaged.pk}


def test_vendors_learn_nothing_of_her_controls(
    customer, past, categories, regions, make_vendor_client, django_capture_on_commit_callbacks
):
    invited = dealer(categories, regions, region="FR", name="Invited Motors")
    matched = dealer(categories, regions, name="Matched Cars")
    left_out = dealer(categories, regions, name="Left Out Autos")
    for vendor in (invited, left_out):
        Delivery.objects.create(intent=past, vendor=vendor)
    with django_capture_on_commit_callbacks(execute=True):
        intent = publish_with_audience(
            customer=customer,
            invite=[invited.pk],
            exclude=[left_out.pk],
            audience_max=3,
            audience_min_rating=Decimal("4.5"),
            **request_fields(categories, regions),
        )
    views = {}
    for vendor in (invited, matched):
        response = make_vendor_client(vendor).get(f"/api/v1/intents/{intent.pk}/")
        assert response.status_code == 200
        views[vendor.name] = response.json()
    assert set(views["Invited Motors"]) == set(views["Matched Cars"])  # the same view, invited or matched
    for view in views.values():
        text = str(view)
        for secret in ("Invited Motors", "Matched Cars", "Left Out Autos", "audience", "invite", "exclude"):
            assert secret not in text
    assert make_vendor_client(left_out).get(f"/api/v1/intents/{intent.pk}/").status_code == 404
