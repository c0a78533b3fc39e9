"""The demo's parts: taxonomy and seed commands, create_vendor, the vendor client, the bots."""

import json
import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from broker.demo.bots import Bot
from broker.demo.client import VendorApiError, VendorClient
from intents.attributes import validate_schema
from intents.models import Category, Region
from intents.services import publish_intent
from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors.deal import counter_bid
from vendors.models import Bid, Subscription, Vendor
from vendors.services import authenticate_key, deliver, issue_api_key
from vendors.team import add_owner, current_membership

pytestmark = pytest.mark.django_db


def test_seed_demo_is_complete_and_idempotent(settings, tmp_path, capsys, client):
    settings.BASE_DIR = tmp_path
    call_command("seed_demo")
    call_command("seed_demo")
    assert Region.objects.count() > 5000
    london = Region.objects.get(code="GB-LND")
    assert london.parent.code == "GB-ENG" and london.parent.parent.code == "GB"
    assert Region.objects.get(code="GB").lft < london.lft < Region.objects.get(code="GB").rgt
    cars = Category.objects.get(slug="cars")
    assert cars.parent.slug == "vehicles"
    for category in Category.objects.all():
        validate_schema(category.attributes)
    names = {a["name"] for c in Category.objects.filter(slug__in=["vehicles", "cars"]) for a in c.attributes}
    assert {"make", "model", "trim", "year", "mileage", "fuel", "engine_size", "doors", "colour", "aircon"} <= names
    assert {"phones", "home-services", "travel"} <= set(Category.objects.values_list("slug", flat=True))
    assert Vendor.objects.filter(status="approved").count() == 5 and Subscription.objects.count() == 5
    keys = json.loads((tmp_path / "var" / "demo_vendor_keys.json").read_text())
    assert len(keys) == 5 and all(authenticate_key(key) is not None for key in keys.values())
    out = capsys.readouterr().out
    assert "customer@demo.intentcast" in out and "dealer@demo.intentcast" in out
    dealer = get_user_model().objects.get(username="demo-dealer")
    assert current_membership(dealer).vendor.name == "Britannia Motors"  # the demo's first vendor
    assert client.login(username="demo-dealer", password="demo-dealer-pass")
    assert client.get("/vendor/").status_code == 200


def test_a_customers_account_cannot_be_made_a_vendors_owner(categories, regions):
    customer = IntentFactory(category=categories["cars"], region=regions["GB"]).customer
    with pytest.raises(ValidationError):
        add_owner(vendor=VendorFactory(), user=customer)
    owner = UserFactory()
    add_owner(vendor=VendorFactory(), user=owner)
    with pytest.raises(ValidationError):  # a login acts for one vendor
        add_owner(vendor=VendorFactory(), user=owner)


def test_create_vendor_prints_a_working_key_last(capsys):
    call_command("create_vendor", "Yaris World", "--email", "sales@yaris.example", "--approve")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    api_key = authenticate_key(key)
    assert api_key.vendor.name == "Yaris World" and api_key.vendor.status == "approved"


def test_create_vendor_without_approve_is_pending(capsys):
    call_command("create_vendor", "Later Ltd", "--email", "a@later.example")
    assert Vendor.objects.get().status == "pending"
    assert "approves" in capsys.readouterr().out


def test_load_taxonomy_is_idempotent_and_restores_schemas():
    call_command("load_taxonomy")
    counts = Category.objects.count(), Region.objects.count()
    Category.objects.filter(slug="cars").update(attributes=[])
    call_command("load_taxonomy")
    assert (Category.objects.count(), Region.objects.count()) == counts
    assert counts[1] > 5000
    assert "trim" in {a["name"] for a in Category.objects.get(slug="cars").attributes}


@pytest.mark.parametrize(
    "args", [["Bad", "--email", "not-an-email"], [" ", "--email", "a@b.example"], ["No Email Ltd"]]
)
def test_create_vendor_refuses_bad_input(args):
    with pytest.raises(CommandError):
        call_command("create_vendor", *args)
    assert not Vendor.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_client_and_one_bot_cycle_over_real_http(live_server, customer, publish, subscribe):
    vendor = VendorFactory(name="Bot Motors")
    subscribe(vendor)
    _, key = issue_api_key(vendor=vendor)
    intent = publish(customer)

    with VendorClient(live_server.url, key) as client:
        assert client.me()["name"] == "Bot Motors"
        assert [i["id"] for i in client.inbox(status="open")] == [str(intent.pk)]
        with pytest.raises(VendorApiError) as error:
            client.place_bid(str(intent.pk), amount="-1", currency="GBP")
        assert error.value.status == 400 and "amount" in error.value.fields

    bot = Bot("Bot Motors", live_server.url, key, seed=1)
    assert bot.cycle() == 1
    assert bot.cycle() == 0
    bid = Bid.objects.get()
    assert bid.vendor == vendor and bid.currency == "GBP" and 3400 <= bid.amount <= 3960
    assert bid.offered_attributes["make"] == "Toyota"  # a concrete car: one value per attribute
    assert bid.offered_attributes["trim"] in ("T2", "T3", "TR", "T Spirit")
    assert isinstance(bid.offered_attributes["mileage"], int)
    assert bid.photos.count() == 1  # a picture of it, drawn by the bot


@pytest.mark.django_db(transaction=True)
def test_demo_vendors_bid_once_on_what_reaches_them(
    live_server, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.BASE_DIR = tmp_path
    call_command("seed_demo")
    keys = json.loads((tmp_path / "var" / "demo_vendor_keys.json").read_text())
    with django_capture_on_commit_callbacks(execute=True):
        intent = publish_intent(
            customer=UserFactory(),
            title="Toyota Yaris T3 or TR, low mileage",
            category=Category.objects.get(slug="cars"),
            region=Region.objects.get(code="GB-LND"),
            attributes={"make": "Toyota", "trim": ["T3", "TR"], "aircon": True},
            budget_max=Decimal("5000"),
            currency="GBP",
        )
    bots = [Bot(name, live_server.url, key) for name, key in keys.items()]

    assert {bot.name: bot.cycle() for bot in bots} == {
        "Britannia Motors": 1,
        "Yaris Specialists London": 1,
        "PhoneHub UK": 0,
        "HomeFix England": 0,
        "Voyage Travel": 0,
    }
    assert sum(bot.cycle() for bot in bots) == 0
    bids = Bid.objects.filter(intent=intent)
    assert {bid.vendor.name for bid in bids} == {"Britannia Motors", "Yaris Specialists London"}
    assert all(bid.currency == "GBP" and 4250 <= bid.amount <= 4950 for bid in bids)
    assert all("forecourt" in bid.message for bid in bids)  # the cars pitch, found through vehicles


def test_bot_waits_for_a_server_that_is_not_up():
    bot = Bot("Nobody", "http://127.0.0.1:9", "ic_not-a-key")  # nothing listens on the discard port
    stop = threading.Event()
    thread = threading.Thread(target=bot.run, args=(stop,), kwargs={"interval": 0.05})
    thread.start()
    threading.Timer(0.3, stop.set).start()
    thread.join(5)
    assert not thread.is_alive()


def test_a_bot_beats_a_better_price_and_answers_counters(live_server, customer, publish, subscribe, make_vendor_client):
    vendor = VendorFactory(name="Bot Motors")
    subscribe(vendor)
    _, key = issue_api_key(vendor=vendor)
    intent = publish(customer, budget_max=Decimal("4000"))
    bot = Bot("Bot Motors", live_server.url, key, seed=2)
    assert bot.cycle() == 1
    mine = Bid.objects.get(vendor=vendor)
    rival = make_vendor_client()
    subscribe(rival.vendor)
    deliver(intent=intent, matches=[(rival.vendor.pk, None)])
    cheaper = (mine.amount - 100).quantize(Decimal("1"))
    assert (
        rival.post(
            "/api/v1/bids/", {"intent": str(intent.pk), "amount": str(cheaper), "currency": "GBP"}, format="json"
        ).status_code
        == 201
    )
    bot.cycle()
    mine.refresh_from_db()
    assert mine.amount == cheaper - 25  # beaten, within its floor
    counter_bid(customer=customer, bid_id=mine.pk, target_amount=mine.amount - 50)
    bot.cycle()
    mine.refresh_from_db()
    assert mine.amount == cheaper - 75 and mine.counters.get().status == "answered"
    counter_bid(customer=customer, bid_id=mine.pk, target_amount=Decimal("100"))  # far below its floor
    bot.cycle()
    assert mine.counters.order_by("-created_at").first().status == "declined"
