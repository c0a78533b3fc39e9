"""Vendors' behaviour figures are stored (reputation.models.VendorBehaviourStats): the stored rows
equal the live computation, the services that change a fact have them recomputed after commit,
and the periodic sweep recomputes the vendors whose deliveries became due with time alone."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from broker.core.outbox import redispatch_unprocessed
from broker.models import OutboxEvent
from broker.personal_data import erase_customer
from broker.pipeline import handlers
from intents.models import Intent
from intents.services import amend_intent
from reputation.models import BehaviourSweep, Rating, VendorBehaviourStats
from reputation.selectors import (
    computed_vendor_behaviour,
    vendor_behaviour,
    vendor_cards,
    vendor_cards_orm,
    vendor_reputations,
)
from reputation.services import recompute_all, sweep_behaviour
from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors import deal
from vendors.models import Bid, DealOutcome, Delivery
from vendors.services import pass_intent, place_bid

pytestmark = pytest.mark.django_db


def _aged(model, pk, hours_ago: float, now=None) -> None:
    model.objects.filter(pk=pk).update(created_at=(now or timezone.now()) - timedelta(hours=hours_ago))


def test_stored_figures_equal_the_live_computation_on_varied_data(categories, regions):
    rng = random.Random(7)
    now = timezone.now()
    vendors = [VendorFactory() for _ in range(6)]
    statuses = [
        Intent.Status.OPEN,
        Intent.Status.OPEN,
        Intent.Status.ACCEPTED,
        Intent.Status.COMPLETED,
        Intent.Status.FELL_THROUGH,
        Intent.Status.EXPIRED,
        Intent.Status.WITHDRAWN,
    ]
    for _ in range(40):
        status = rng.choice(statuses)
        intent = IntentFactory(customer=UserFactory(), category=categories["cars"], region=regions["GB"], status=status)
        reached = rng.sample(vendors, rng.randint(1, len(vendors)))
        winner = rng.choice(reached) if status in (Intent.Status.COMPLETED, Intent.Status.FELL_THROUGH) else None
        for vendor in reached:
            age = rng.uniform(0, 200)  # hours: either side of the 48-hour grace
            delivery = Delivery.objects.create(intent=intent, vendor=vendor)
            _aged(Delivery, delivery.pk, age, now)
            if rng.random() < 0.1:
                Delivery.objects.filter(pk=delivery.pk).update(withdrawn_at=now)  # amended away
            if rng.random() < 0.2:
                Delivery.objects.filter(pk=delivery.pk).update(passed_at=now, pass_reason="price")
            if vendor is winner or rng.random() < 0.5:
                for n in range(rng.randint(1, 2)):
                    accepted = vendor is winner and n == 0
                    bid = Bid.objects.create(
                        intent=intent,
                        vendor=vendor,
                        amount=1,
                        currency="GBP",
                        terms_accepted={},
                        status=Bid.Status.ACCEPTED if accepted else Bid.Status.WITHDRAWN,
                    )
                    _aged(Bid, bid.pk, age - rng.uniform(0, min(age, 30)), now)
                    if accepted and status == Intent.Status.FELL_THROUGH and rng.random() < 0.5:
                        DealOutcome.objects.create(bid=bid, side="vendor", outcome="fell_through", reason="Sold")
                    if accepted:
                        DealOutcome.objects.create(bid=bid, side="customer", outcome=status, reason="Said so")
                        if status == Intent.Status.COMPLETED:
                            Rating.objects.create(
                                bid=bid, by=Rating.Side.CUSTOMER, score=rng.randint(1, 5), revealed_at=now
                            )
    rated_elsewhere = VendorFactory()  # a score and no delivery: once without a behaviour row
    intent = IntentFactory(
        customer=UserFactory(), category=categories["cars"], region=regions["GB"], status="completed"
    )
    bid = Bid.objects.create(intent=intent, vendor=rated_elsewhere, amount=1, currency="GBP", terms_accepted={})
    Rating.objects.create(bid=bid, by=Rating.Side.CUSTOMER, score=4, revealed_at=now)
    recompute_all(now=now)
    ids = [vendor.pk for vendor in vendors]

    assert sweep_behaviour(now=now) == len(vendors) + 1  # the first sweep: every vendor

    live = computed_vendor_behaviour(ids, now=now)
    assert {live[vid]["deliveries_due"] > 0 for vid in ids} == {True}
    assert any(live[vid]["deals_completed"] for vid in ids) and any(live[vid]["deals_backed_out"] for vid in ids)
    assert len({live[vid]["answered_share"] for vid in ids}) > 1
    assert vendor_behaviour(ids) == live
    everyone = [*ids, rated_elsewhere.pk]
    reputations = vendor_reputations(everyone)
    live = computed_vendor_behaviour(everyone, now=now)
    assert vendor_cards(everyone) == {vid: {**reputations[vid], **live[vid]} for vid in everyone}
    assert typed_cards(vendor_cards(everyone)) == typed_cards(vendor_cards_orm(everyone))  # its hand-written query
    VendorBehaviourStats.objects.filter(vendor=rated_elsewhere).delete()  # its score read on its own
    assert vendor_cards(everyone) == {vid: {**reputations[vid], **live[vid]} for vid in everyone}
    assert typed_cards(vendor_cards(everyone)) == typed_cards(vendor_cards_orm(everyone))
    assert vendor_cards([]) == vendor_cards_orm([]) == {}


def typed_cards(cards):
    return {vid: {name: (value, type(value)) for name, value in card.items()} for vid, card in cards.items()}


@pytest.fixture
def delivered(publish, subscribe, customer):
    """Her request, delivered through the pipeline to two vendors 50 hours ago."""
    first, second = VendorFactory(name="First Motors"), VendorFactory(name="Second Cars")
    subscribe(first)
    subscribe(second)
    intent = publish(customer)
    Delivery.objects.filter(intent=intent).update(created_at=timezone.now() - timedelta(hours=50))
    return intent, first, second


@pytest.fixture
def sweep(settings):
    """The outbox's sweep, as beat runs it once an event has waited ``OUTBOX_REDISPATCH_AFTER``
    (here at once); returns how many events it sent."""
    settings.INTENTCAST = {**settings.INTENTCAST, "OUTBOX_REDISPATCH_AFTER": timedelta(0)}
    return redispatch_unprocessed


def test_an_offer_is_counted_by_the_next_sweep(delivered, sweep, django_capture_on_commit_callbacks):
    intent, first, _ = delivered
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        place_bid(vendor=first, intent_id=intent.pk, amount=Decimal("3500"), currency="GBP")
    assert vendor_behaviour([first.pk])[first.pk]["deliveries_due"] == 0  # not yet: no row
    assert not any("dispatch_event" in repr(callback) for callback in callbacks)  # the bid sent no message
    assert sweep() == 1
    figures = vendor_behaviour([first.pk])[first.pk]
    assert (figures["deliveries_due"], figures["answered_share"]) == (1, 1.0)
    assert figures["median_hours_to_offer"] == 50.0
    assert not OutboxEvent.objects.filter(kind=deal.BEHAVIOUR_CHANGED, processed_at__isnull=True).exists()


def test_a_pass_is_counted_by_the_next_sweep(delivered, sweep, django_capture_on_commit_callbacks):
    intent, first, second = delivered
    with django_capture_on_commit_callbacks(execute=True):
        pass_intent(vendor=second, intent_id=intent.pk, reason="price")
    assert sweep() == 1
    assert vendor_behaviour([second.pk])[second.pk]["answered_share"] == 1.0
    assert vendor_behaviour([first.pk])[first.pk]["deliveries_due"] == 0  # untouched: no row yet


def test_the_waiting_answers_are_taken_together(delivered, sweep, django_capture_on_commit_callbacks, monkeypatch):
    """Offers and passes of several vendors wait for the sweep, which sends one of their events:
    its handler takes the others and recomputes every vendor once; an event recorded at once (a
    closed request's) takes the waiting ones too."""
    intent, first, second = delivered
    other = IntentFactory(customer=intent.customer, category=intent.category, region=intent.region)
    Delivery.objects.create(
        intent=other, vendor=first, subscription=Delivery.objects.filter(vendor=first).first().subscription
    )
    with django_capture_on_commit_callbacks(execute=True):
        place_bid(vendor=first, intent_id=intent.pk, amount=Decimal("3500"), currency="GBP")
        pass_intent(vendor=second, intent_id=intent.pk, reason="price")
        pass_intent(vendor=first, intent_id=other.pk, reason="")
    recomputed = []
    refresh = handlers.refresh_behaviour
    monkeypatch.setattr(
        handlers, "refresh_behaviour", lambda **kw: recomputed.append(sorted(kw["vendor_ids"])) or refresh(**kw)
    )
    assert sweep() == 1  # one message for three events
    assert recomputed == [sorted([first.pk, second.pk])]  # one recompute for both vendors
    assert not OutboxEvent.objects.filter(kind=deal.BEHAVIOUR_CHANGED, processed_at__isnull=True).exists()
    assert vendor_behaviour([second.pk])[second.pk]["answered_share"] == 1.0
    assert vendor_behaviour([first.pk])[first.pk]["deliveries_due"] == 1  # the other request is hours old
    assert sweep() == 0  # nothing left

    with django_capture_on_commit_callbacks(execute=True):
        pass_intent(vendor=second, intent_id=intent.pk, reason="price")  # passed already: no event
        deal.behaviour_changed(vendor_ids=[first.pk], dispatch=False)
    recomputed.clear()
    with django_capture_on_commit_callbacks(execute=True):
        deal.behaviour_changed(vendor_ids=[second.pk])  # dispatched after commit
    assert recomputed == [sorted([first.pk, second.pk])]
    assert sweep() == 0


def test_a_closed_request_makes_its_fresh_deliveries_due(delivered, customer, django_capture_on_commit_callbacks):
    intent, first, second = delivered
    Delivery.objects.filter(intent=intent).update(created_at=timezone.now())  # hours old, not due yet
    with django_capture_on_commit_callbacks(execute=True):
        deal.withdraw_intent(customer=customer, intent_id=intent.pk)
    figures = vendor_behaviour([first.pk, second.pk])
    assert [(f["deliveries_due"], f["answered_share"]) for f in figures.values()] == [(1, 0.0), (1, 0.0)]


def test_an_accepted_offer_and_the_deals_outcome_are_counted(delivered, customer, django_capture_on_commit_callbacks):
    intent, first, second = delivered
    Delivery.objects.filter(intent=intent).update(created_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        bid = place_bid(vendor=first, intent_id=intent.pk, amount=Decimal("3500"), currency="GBP")
    with django_capture_on_commit_callbacks(execute=True):
        deal.accept_bid(customer=customer, bid_id=bid.pk)
    assert vendor_behaviour([second.pk])[second.pk]["deliveries_due"] == 1  # the request closed with a deal
    with django_capture_on_commit_callbacks(execute=True):
        deal.mark_outcome(bid=bid, side=DealOutcome.Side.VENDOR, vendor=first, outcome="fell_through", reason="Sold")
    figures = vendor_behaviour([first.pk])[first.pk]
    assert (figures["deals_completed"], figures["deals_fell_through"], figures["deals_backed_out"]) == (0, 1, 1)


def test_erasing_her_account_takes_her_requests_out_of_the_figures(
    delivered, customer, sweep, django_capture_on_commit_callbacks
):
    intent, first, _ = delivered
    with django_capture_on_commit_callbacks(execute=True):
        place_bid(vendor=first, intent_id=intent.pk, amount=Decimal("3500"), currency="GBP")
    sweep()
    assert vendor_behaviour([first.pk])[first.pk]["deliveries_due"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        erase_customer(customer=customer)
    assert vendor_behaviour([first.pk])[first.pk]["deliveries_due"] == 0


def test_the_sweep_recomputes_only_vendors_whose_deliveries_crossed_the_grace(categories, regions):
    now = timezone.now()
    crossing, fresh = VendorFactory(), VendorFactory()
    intent = IntentFactory(customer=UserFactory(), category=categories["cars"], region=regions["GB"])
    for vendor, hours_ago in ((crossing, 47), (fresh, 10)):
        _aged(Delivery, Delivery.objects.create(intent=intent, vendor=vendor).pk, hours_ago, now)

    assert sweep_behaviour(now=now) == 2  # the first: every vendor
    assert vendor_behaviour([crossing.pk])[crossing.pk]["deliveries_due"] == 0
    two_hours_on = now + timedelta(hours=2)
    assert sweep_behaviour(now=two_hours_on) == 1  # only the one whose delivery is now 49 hours old
    assert (
        vendor_behaviour([crossing.pk])[crossing.pk]
        == computed_vendor_behaviour([crossing.pk], now=two_hours_on)[crossing.pk]
    )
    assert vendor_behaviour([crossing.pk])[crossing.pk]["deliveries_due"] == 1
    assert sweep_behaviour(now=two_hours_on + timedelta(minutes=10)) == 0
    assert BehaviourSweep.objects.get().swept_to == two_hours_on + timedelta(minutes=10)


def test_a_request_amended_out_of_an_inbox_leaves_its_vendors_figures(
    customer, publish, subscribe, django_capture_on_commit_callbacks
):
    toyota = VendorFactory(name="Toyota only")
    subscribe(toyota, attribute_filters={"make": {"in": ["Toyota"]}})
    intent = publish(customer)  # a Toyota
    Delivery.objects.filter(intent=intent).update(created_at=timezone.now() - timedelta(hours=50))
    sweep_behaviour()
    assert vendor_behaviour([toyota.pk])[toyota.pk]["deliveries_due"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        amend_intent(
            customer=customer,
            intent_id=intent.pk,
            details="Ford Fiesta now, please.",
            attributes={**intent.attributes, "make": "Ford"},
            budget_max=Decimal("5000"),
        )
    assert vendor_behaviour([toyota.pk])[toyota.pk]["deliveries_due"] == 0


def test_a_closed_request_recomputes_only_the_vendors_of_its_young_deliveries(
    delivered, customer, django_capture_on_commit_callbacks
):
    intent, young, old = delivered  # both delivered 50 hours ago
    Delivery.objects.filter(intent=intent, vendor=young).update(created_at=timezone.now())
    sweep_behaviour()
    VendorBehaviourStats.objects.filter(vendor=old).update(deliveries_due=99)  # a recompute would undo it
    with django_capture_on_commit_callbacks(execute=True):
        deal.withdraw_intent(customer=customer, intent_id=intent.pk)
    assert vendor_behaviour([young.pk])[young.pk]["deliveries_due"] == 1
    assert vendor_behaviour([old.pk])[old.pk]["deliveries_due"] == 99  # due already: nothing changed for it


def test_removing_a_completed_deal_recomputes_its_vendor_however_old_the_delivery(
    delivered, customer, django_capture_on_commit_callbacks
):
    intent, first, _ = delivered
    with django_capture_on_commit_callbacks(execute=True):
        bid = place_bid(vendor=first, intent_id=intent.pk, amount=Decimal("3500"), currency="GBP")
    with django_capture_on_commit_callbacks(execute=True):
        deal.accept_bid(customer=customer, bid_id=bid.pk)
        deal.mark_outcome(bid=bid, side=DealOutcome.Side.CUSTOMER, customer=customer, outcome="completed")
    assert vendor_behaviour([first.pk])[first.pk]["deals_completed"] == 1
    intent.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        deal.remove_intent(moderator=None, intent=intent, reason="A fake request")
    assert vendor_behaviour([first.pk])[first.pk]["deals_completed"] == 0
