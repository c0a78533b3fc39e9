"""A large audience cast in parts (broker.pipeline.fanout): the parts together reach the audience
the one-part cast reaches, with the same handles and events; each part is idempotent; a part
of an amended or closed request delivers nothing, and the amendment's or closure's step waits
until the cast is done."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from broker.core import outbox
from broker.models import OutboxEvent
from broker.pipeline.fanout import cast_part, notify_matched, split
from broker.pipeline.handlers import HANDLERS
from intents.models import Intent
from intents.services import INTENT_AMENDED, INTENT_CLOSED, INTENT_PUBLISHED
from reputation.models import Rating
from reputation.services import recompute_all
from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors.models import AudienceChoice, Bid, Block, Delivery, Pseudonym, VendorEvent, WebhookDelivery
from vendors.services import deliver, save_subscription
from vendors.webhooks import register_endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_parts(settings):
    """Audiences of more than 2 vendors are cast in parts; 3 parts unless a test says otherwise."""

    def configure(parts: int = 3, one_step_max: int = 2) -> None:
        settings.INTENTCAST = {
            **settings.INTENTCAST,
            "FANOUT_PARTS": parts,
            "FANOUT_ONE_STEP_MAX": one_step_max,
            "FANOUT_PART_MIN": 1,
        }

    configure()
    return configure


def dealer(categories, regions, *, region="GB", **data):
    vendor = VendorFactory()
    save_subscription(vendor=vendor, categories=[categories["cars"]], regions=[regions[region]], **data)
    return vendor


def yaris(customer, categories, regions, **data) -> Intent:
    return IntentFactory(
        customer=customer,
        title="Low-mileage Toyota Yaris",
        details="Silver, petrol.",
        category=categories["cars"],
        region=regions["GB-LND"],
        budget_max=Decimal("4000"),
        currency="GBP",
        **data,
    )


def drain() -> list[OutboxEvent]:
    """Process the waiting outbox events, oldest first, as the workers would (the tests' commits
    dispatch nothing); returns them."""
    done = []
    while event := OutboxEvent.objects.filter(processed_at__isnull=True).order_by("id").first():
        assert outbox.process_event(event.pk, HANDLERS) is True
        done.append(event)
    return done


def cast(intent: Intent) -> None:
    outbox.record_event(INTENT_PUBLISHED, {"intent_id": str(intent.pk)})
    drain()


def parts_of(intent: Intent) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(kind="intent.part", payload__intent_id=str(intent.pk)).order_by("id"))


def test_split_keeps_the_order_and_evens_the_parts():
    assert split(list(range(7)), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert split([1, 2], 5) == [[1], [2]]
    assert split([1, 2, 3], 1) == [[1, 2, 3]]


def test_a_large_audience_is_cast_in_parts_by_vendor_id(customer, categories, regions, in_parts):
    vendors = sorted(dealer(categories, regions).pk for _ in range(7))
    intent = yaris(customer, categories, regions)
    cast(intent)
    parts = parts_of(intent)
    assert [part.payload["vendors"] for part in parts] == [vendors[:3], vendors[3:5], vendors[5:]]
    assert all(part.payload["revision"] == intent.revision for part in parts)
    subscriptions = dict(Delivery.objects.filter(intent=intent).values_list("vendor_id", "subscription_id"))
    for part in parts:
        assert part.payload["subscriptions"] == [subscriptions[v].hex for v in part.payload["vendors"]]
    # The first part (3 vendors, more than FANOUT_ONE_STEP_MAX) tells its vendors in a step of
    # its own; the others in their own transaction.
    (delivered,) = OutboxEvent.objects.filter(kind="intent.delivered")
    assert delivered.payload == {"intent_id": str(intent.pk), "vendors": [vendors[0], vendors[2]]}
    assert sorted(Delivery.objects.filter(intent=intent).values_list("vendor_id", flat=True)) == vendors
    events = VendorEvent.objects.filter(kind="intent.matched", subject=str(intent.pk))
    assert sorted(events.values_list("vendor_id", flat=True)) == vendors
    assert not OutboxEvent.objects.filter(processed_at__isnull=True).exists()


def test_no_part_is_smaller_than_the_minimum(customer, categories, regions, in_parts, settings):
    settings.INTENTCAST = {**settings.INTENTCAST, "FANOUT_PART_MIN": 3}
    vendors = sorted(dealer(categories, regions).pk for _ in range(8))
    intent = yaris(customer, categories, regions)
    cast(intent)  # three parts asked for, two of at least three vendors made
    assert [part.payload["vendors"] for part in parts_of(intent)] == [vendors[:4], vendors[4:]]
    settings.INTENTCAST = {**settings.INTENTCAST, "FANOUT_PART_MIN": 5}
    again = yaris(customer, categories, regions)
    cast(again)  # one part: cast whole in the matching task
    assert parts_of(again) == []
    assert Delivery.objects.filter(intent=again).count() == 8


def test_one_part_casts_in_the_matching_transaction(customer, categories, regions, in_parts):
    in_parts(parts=1)
    for _ in range(4):
        dealer(categories, regions)
    intent = yaris(customer, categories, regions)
    cast(intent)
    assert list(OutboxEvent.objects.order_by("id").values_list("kind", "payload")) == [
        ("intent.published", {"intent_id": str(intent.pk)}),
        ("intent.delivered", {"intent_id": str(intent.pk)}),
    ]
    assert Delivery.objects.filter(intent=intent).count() == 4


def outcome(intent: Intent) -> dict[str, object]:
    """What a cast leaves: the deliveries (vendor, subscription), and for each event its vendor,
    kind, subject, payload without its handle, whether that handle is the vendor's pseudonym for
    her, and its webhook deliveries."""
    handles = dict(Pseudonym.objects.filter(customer=intent.customer).values_list("vendor_id", "handle"))
    events = []
    for event in VendorEvent.objects.filter(subject=str(intent.pk)).order_by("vendor_id", "kind"):
        data = event.payload["data"]
        handle = data.pop("customer")["handle"]
        events.append(
            (
                event.vendor_id,
                event.kind,
                data,
                handle == handles[event.vendor_id],
                WebhookDelivery.objects.filter(event=event).count(),
            )
        )
    return {
        "deliveries": sorted(Delivery.objects.filter(intent=intent).values_list("vendor_id", "subscription_id")),
        "pseudonyms": sorted(handles),
        "events": events,
    }


class Undo(Exception):
    pass


def outcome_of_cast(intent: Intent, configure, parts: int) -> dict[str, object]:
    """Cast ``intent`` in ``parts`` parts and return what it left, then undo it all."""
    configure(parts=parts)
    result: dict[str, object] = {}
    with pytest.raises(Undo), transaction.atomic():
        cast(intent)
        result = outcome(intent)
        result["parts"] = len(parts_of(intent))
        raise Undo
    return result


def test_the_split_cast_reaches_the_audience_of_the_one_part_cast(customer, categories, regions, in_parts):
    """Her controls and the broker's rules, all at once: the same vendors get the same
    deliveries, handles, events and webhooks whether the audience is cast in one part or four."""
    at_cap = dealer(categories, regions, daily_cap=1)
    earlier = IntentFactory(customer=UserFactory(), category=categories["cars"], region=regions["GB"])
    deliver(intent=earlier, matches=[(at_cap.pk, at_cap.subscriptions.get().pk)])  # its one delivery today
    under_cap = dealer(categories, regions, daily_cap=5)
    plain = [dealer(categories, regions) for _ in range(6)]
    best = dealer(categories, regions, keywords=["Yaris"])  # the best fit, first under her maximum
    blocked = dealer(categories, regions)
    Block.objects.create(customer=customer, vendor=blocked, blocked_by=Block.Side.CUSTOMER)
    excluded = dealer(categories, regions)
    invited = dealer(categories, regions, region="FR")  # outside her region: reached by invitation only
    poorly_rated = dealer(categories, regions)
    for score in (1, 1, 1):
        rated = IntentFactory(customer=UserFactory(), category=categories["cars"], region=regions["GB"])
        bid = Bid.objects.create(
            intent=rated, vendor=poorly_rated, amount=1, currency="GBP", status=Bid.Status.ACCEPTED
        )
        Rating.objects.create(bid=bid, by=Rating.Side.CUSTOMER, score=score, revealed_at=timezone.now())
    recompute_all()
    register_endpoint(vendor=plain[0], url="http://127.0.0.1:9/hook")
    register_endpoint(vendor=invited, url="http://127.0.0.1:9/hook")
    intent = yaris(customer, categories, regions, audience_max=8, audience_min_rating=Decimal("3"), audience_named=True)
    AudienceChoice.objects.create(intent=intent, vendor=excluded, kind=AudienceChoice.Kind.EXCLUDE)
    AudienceChoice.objects.create(intent=intent, vendor=invited, kind=AudienceChoice.Kind.INVITE)

    whole = outcome_of_cast(intent, in_parts, parts=1)
    split_up = outcome_of_cast(intent, in_parts, parts=4)

    assert (whole.pop("parts"), split_up.pop("parts")) == (0, 4)
    assert split_up == whole
    reached = {vendor_id for vendor_id, _ in whole["deliveries"]}
    # Nine admitted (six plain, the best fit, the one under its cap, the invited one); her
    # maximum of eight leaves out the plain dealer ranked last (the newest).
    assert reached == {v.pk for v in (*plain[:5], best, under_cap, invited)}
    assert all(event[3] for event in whole["events"])  # every handle is the vendor's own
    assert [event[4] for event in whole["events"] if event[0] in (plain[0].pk, invited.pk)] == [1, 1]


def test_a_part_cast_again_adds_nothing(customer, categories, regions, in_parts):
    for _ in range(5):
        dealer(categories, regions)
    intent = yaris(customer, categories, regions)
    cast(intent)
    handles = dict(Pseudonym.objects.values_list("vendor_id", "handle"))
    for part in parts_of(intent):
        assert cast_part(part.payload) == len(part.payload["vendors"])
    drain()  # the follow-up steps the parts recorded again
    assert Delivery.objects.filter(intent=intent).count() == 5
    assert VendorEvent.objects.filter(kind="intent.matched").count() == 5
    assert dict(Pseudonym.objects.values_list("vendor_id", "handle")) == handles


def test_the_events_of_a_part_go_to_its_vendors_only(customer, categories, regions):
    vendors = sorted(dealer(categories, regions).pk for _ in range(4))
    intent = yaris(customer, categories, regions)
    deliver(intent=intent, matches=[(v, None) for v in vendors])
    assert notify_matched(intent.pk, vendor_range=(vendors[1], vendors[2])) == 2
    told = VendorEvent.objects.filter(kind="intent.matched").values_list("vendor_id", flat=True)
    assert sorted(told) == vendors[1:3]


def split_but_not_cast(intent: Intent) -> list[OutboxEvent]:
    """The matching step alone: its parts recorded, none of them cast yet."""
    outbox.record_event(INTENT_PUBLISHED, {"intent_id": str(intent.pk)})
    (published,) = OutboxEvent.objects.filter(kind=INTENT_PUBLISHED, processed_at__isnull=True)
    assert outbox.process_event(published.pk, HANDLERS) is True
    return parts_of(intent)


def test_an_amendment_waits_for_the_cast_and_a_later_part_leaves_it_to_the_amendment(
    customer, categories, regions, in_parts
):
    in_parts(parts=2)
    affordable, pricey = [], []
    for _ in range(3):  # in turn, so that each part holds some of both
        affordable.append(dealer(categories, regions))
        pricey.append(dealer(categories, regions, min_budget=Decimal("3000"), min_budget_currency="GBP"))
    intent = yaris(customer, categories, regions)
    first, second = split_but_not_cast(intent)
    assert first.payload["vendors"] == [affordable[0].pk, pricey[0].pk, affordable[1].pk]
    assert outbox.process_event(first.pk, HANDLERS) is True
    # She amends the request before the second part is cast: with her budget down to 2,000,
    # the dealers asking for 3,000 no longer match.
    Intent.objects.filter(pk=intent.pk).update(budget_max=Decimal("2000"), revision=2)
    intent.refresh_from_db()
    outbox.record_event(INTENT_AMENDED, {"intent_id": str(intent.pk), "revision": 2})
    amended = OutboxEvent.objects.get(kind=INTENT_AMENDED)
    with pytest.raises(outbox.EventMustWait):
        outbox.process_event(amended.pk, HANDLERS)
    amended.refresh_from_db()
    assert amended.processed_at is None

    assert outbox.process_event(second.pk, HANDLERS) is True  # of revision 1: it casts nothing
    assert not Delivery.objects.filter(intent=intent, vendor_id__in=second.payload["vendors"]).exists()
    drain()  # the first part's events, then the amendment
    current = Delivery.objects.filter(intent=intent, withdrawn_at__isnull=True).values_list("vendor_id", flat=True)
    assert sorted(current) == [v.pk for v in affordable]
    assert list(
        Delivery.objects.filter(intent=intent, withdrawn_at__isnull=False).values_list("vendor_id", flat=True)
    ) == [pricey[0].pk]
    assert not Delivery.objects.filter(intent=intent, vendor__in=pricey[1:]).exists()
    revision = f"{intent.pk}@2"
    told = {(e.vendor_id, e.kind, e.subject) for e in VendorEvent.objects.all()}
    assert told == {
        (affordable[0].pk, "intent.matched", str(intent.pk)),
        (affordable[1].pk, "intent.matched", str(intent.pk)),
        (pricey[0].pk, "intent.matched", str(intent.pk)),
        (affordable[0].pk, "intent.updated", revision),
        (affordable[1].pk, "intent.updated", revision),
        (pricey[0].pk, "intent.withdrawn", revision),
        (affordable[2].pk, "intent.matched", revision),
    }


def test_the_closing_step_waits_for_the_cast_and_a_later_part_casts_nothing(customer, categories, regions, in_parts):
    in_parts(parts=2)
    for _ in range(6):
        dealer(categories, regions)
    intent = yaris(customer, categories, regions)
    first, second = split_but_not_cast(intent)
    assert outbox.process_event(first.pk, HANDLERS) is True
    Intent.objects.filter(pk=intent.pk).update(status=Intent.Status.WITHDRAWN, close_reason="no_longer_needed")
    outbox.record_event(INTENT_CLOSED, {"intent_id": str(intent.pk)})
    closed = OutboxEvent.objects.get(kind=INTENT_CLOSED)
    outbox.process_outbox_event(closed.pk)  # the task: it leaves the event for the sweep, without an error
    closed.refresh_from_db()
    assert closed.processed_at is None

    drain()
    delivered = set(Delivery.objects.filter(intent=intent).values_list("vendor_id", flat=True))
    assert delivered == set(first.payload["vendors"])
    withdrawn = VendorEvent.objects.filter(kind="intent.withdrawn", subject=str(intent.pk))
    assert set(withdrawn.values_list("vendor_id", flat=True)) == delivered
