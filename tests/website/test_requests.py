"""The customer's website, through Django's test client."""

import pytest
from django.urls import reverse

from broker.models import OutboxEvent
from intents.models import Intent
from tests.factories import UserFactory, VendorFactory
from vendors.models import Bid, Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


def new_url(categories, country="GB"):
    return f"{reverse('intents:new')}?category={categories['cars'].pk}&country={country}"


def yaris_form(**overrides):
    data = {
        "title": "Low-mileage Toyota Yaris, T3 or TR spec",
        "details": "Silver, aircon, ideally 1.3 petrol, five doors.",
        "attr_make": "Toyota",
        "attr_trim": ["T3", "TR"],
        "attr_mileage": "40000",
        "attr_engine_size": "1.3",
        "attr_doors": "5",
        "attr_aircon": "true",
        "attr_fuel": "petrol",
        "attr_colour": "silver",
        "attr_year_0": "2003",
        "attr_year_1": "2006",
        "region": "GB-LND",
        "budget_max": "4000",
        "currency": "GBP",
        "contact_through_broker_only": "on",
        "no_marketing": "on",
        "delete_data_after_days": "90",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_sign_up_and_log_in_with_email(client, db):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "password1": "a long unusual passphrase",
            "password2": "a long unusual passphrase",
        },
    )
    assert response.status_code == 302
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "new@example.com", "password": "a long unusual passphrase"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("intents:list")


def test_pages_need_login(client, db):
    for name in ("intents:list", "intents:new", "intents:my_data"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_home_page(client, db):
    response = client.get("/")
    assert response.status_code == 200 and b"Post a request" not in response.content  # anonymous: sign up first
    assert b"Sign up" in response.content


def test_step_one_then_the_category_schema(signed_in, categories, regions):
    first = signed_in.get(reverse("intents:new"))
    assert first.status_code == 200 and b'name="category"' in first.content
    form = signed_in.get(new_url(categories)).content.decode()
    for name in ("attr_make", "attr_trim", "attr_mileage", "attr_aircon", "attr_year_0", "attr_engine_size"):
        assert f'name="{name}"' in form
    assert "London" in form and "Anywhere in United Kingdom" in form


def test_unknown_category_in_step_one_shows_the_error(signed_in, categories, regions):
    response = signed_in.get(f"{reverse('intents:new')}?category=99999&country=GB")
    assert response.status_code == 200
    assert b"Choose a category from the list." in response.content or b"Select a valid choice" in response.content


def test_posting_a_yaris_request(signed_in, customer, categories, regions):
    response = signed_in.post(new_url(categories), yaris_form())
    intent = Intent.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("intents:detail", args=[intent.pk])
    assert intent.customer == customer and intent.region.code == "GB-LND"
    assert intent.attributes == {
        "make": "Toyota",
        "trim": ["T3", "TR"],
        "mileage": 40000,
        "engine_size": 1.3,
        "doors": 5,
        "aircon": True,
        "fuel": "petrol",
        "colour": "silver",
        "year": {"min": 2003, "max": 2006},
    }
    assert str(intent.budget_max) == "4000.00" and intent.currency == "GBP"
    assert intent.terms == {"contact_through_broker_only": True, "no_marketing": True, "delete_data_after_days": 90}
    assert OutboxEvent.objects.filter(kind="intent.published", payload__intent_id=str(intent.pk)).exists()


def test_empty_attributes_are_not_sent(signed_in, categories, regions):
    signed_in.post(
        new_url(categories), yaris_form(attr_make="", attr_trim=None, attr_aircon="", attr_year_0="", attr_year_1="")
    )
    assert set(Intent.objects.get().attributes) == {"mileage", "engine_size", "doors", "fuel", "colour"}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"region": "XX-NOPE"}, "region", "Select a valid choice."),
        ({"attr_mileage": "lots"}, "attr_mileage", "Enter a number."),
        ({"attr_make": "Trabant"}, "attr_make", "Select a valid choice."),
        ({"attr_year_0": "2010", "attr_year_1": "2000"}, "attr_year", "The minimum is above the maximum."),
        ({"budget_max": "-5"}, "budget_max", "The budget cannot be negative."),
        ({"budget_max": "cheap"}, "budget_max", "Enter a number."),
        ({"currency": "XYZ"}, "currency", "Select a valid choice."),
        ({"expires_on": "2001-01-01"}, "expires_on", "Choose a time in the future."),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_saves_nothing(
    signed_in, categories, regions, overrides, field, message
):
    response = signed_in.post(new_url(categories), yaris_form(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field]), form.errors
    html = response.content.decode()
    assert f'id="id_{field}' in html and f"id_{field}" in html and "aria-invalid" in html
    assert not Intent.objects.exists() and not OutboxEvent.objects.exists()


@pytest.fixture
def intent_with_bids(customer, publish, subscribe):
    intent = publish(customer)
    bids = []
    for name, amount in (("Cheap Cars", 3500), ("Dear Cars", 3900)):
        vendor = VendorFactory(name=name)
        bids.append(
            Bid.objects.create(intent=intent, vendor=vendor, amount=amount, currency="GBP", terms_accepted=intent.terms)
        )
    return intent, bids


def test_list_and_detail_show_her_requests_and_bids_side_by_side(signed_in, intent_with_bids):
    intent, bids = intent_with_bids
    listing = signed_in.get(reverse("intents:list")).content.decode()
    assert intent.title in listing and "2 active bids" in listing
    detail = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert detail.index("Cheap Cars") < detail.index("Dear Cars")
    by_price_desc = signed_in.get(reverse("intents:detail", args=[intent.pk]) + "?sort=-price").content.decode()
    assert by_price_desc.index("Dear Cars") < by_price_desc.index("Cheap Cars")


def test_accepting_a_bid_declines_the_others_and_closes_the_request(signed_in, intent_with_bids):
    intent, (cheap, dear) = intent_with_bids
    response = signed_in.post(reverse("intents:accept", args=[intent.pk, cheap.pk]), follow=True)
    assert b"Bid accepted" in response.content
    cheap.refresh_from_db(), dear.refresh_from_db(), intent.refresh_from_db()
    assert (cheap.status, dear.status, intent.status) == ("accepted", "declined", "accepted")
    again = signed_in.post(reverse("intents:accept", args=[intent.pk, dear.pk]), follow=True)
    assert again.status_code == 200 and b"This request is accepted." in again.content
    dear.refresh_from_db()
    assert dear.status == "declined"


def test_decline_and_withdraw(signed_in, intent_with_bids):
    intent, (cheap, dear) = intent_with_bids
    signed_in.post(reverse("intents:decline", args=[intent.pk, cheap.pk]))
    cheap.refresh_from_db()
    assert cheap.status == "declined"
    signed_in.post(reverse("intents:withdraw", args=[intent.pk]))
    intent.refresh_from_db(), dear.refresh_from_db()
    assert intent.status == "withdrawn" and dear.status == "declined"


def test_another_customers_request_is_404(client, intent_with_bids):
    intent, (cheap, _) = intent_with_bids
    client.force_login(UserFactory(username="mallory"))
    assert client.get(reverse("intents:detail", args=[intent.pk])).status_code == 404
    assert client.post(reverse("intents:accept", args=[intent.pk, cheap.pk])).status_code == 404
    assert client.post(reverse("intents:withdraw", args=[intent.pk])).status_code == 404
    assert client.get(reverse("intents:thread", args=[intent.pk, cheap.vendor_id])).status_code == 404
    cheap.refresh_from_db(), intent.refresh_from_db()
    assert cheap.status == "active" and intent.status == "open"


def test_messages_with_a_vendor(signed_in, intent_with_bids):
    intent, (cheap, _) = intent_with_bids

    Delivery.objects.get_or_create(intent=intent, vendor=cheap.vendor)
    url = reverse("intents:thread", args=[intent.pk, cheap.vendor_id])
    assert signed_in.post(url, {"body": ""}).context["form"].errors["body"]
    response = signed_in.post(url, {"body": "Is it silver?"}, follow=True)
    assert b"Is it silver?" in response.content


def test_block_vendor(signed_in, intent_with_bids, customer):
    intent, (cheap, _) = intent_with_bids
    signed_in.post(reverse("intents:block", args=[intent.pk, cheap.vendor_id]))
    assert customer.blocks.filter(vendor=cheap.vendor).exists()


def test_rate_after_accepting(signed_in, intent_with_bids):
    intent, (cheap, _) = intent_with_bids
    signed_in.post(reverse("intents:accept", args=[intent.pk, cheap.pk]))
    page = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "Rate Cheap Cars" in page
    response = signed_in.post(reverse("intents:rate", args=[intent.pk, cheap.pk]), {"score": "9"}, follow=True)
    assert b"Choose a score from 1 to 5." in response.content
    response = signed_in.post(reverse("intents:rate", args=[intent.pk, cheap.pk]), {"score": "5"}, follow=True)
    assert b"You rated this deal 5 / 5" in response.content


def test_export_and_erase(signed_in, intent_with_bids, customer):
    data = signed_in.get(reverse("intents:export_json")).json()
    assert data["requests"][0]["title"] == intent_with_bids[0].title
    assert signed_in.get(reverse("intents:export_zip"))["Content-Type"] == "application/zip"
    wrong = signed_in.post(reverse("intents:my_data"), {"confirm": "yes"})
    assert wrong.status_code == 200 and wrong.context["form"].errors["confirm"]
    assert Intent.objects.exists()
    signed_in.post(reverse("intents:my_data"), {"confirm": "erase my account"})
    assert not Intent.objects.exists()
    assert not type(customer).objects.filter(pk=customer.pk).exists()
