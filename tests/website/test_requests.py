"""The customer's website, through Django's test client."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from broker.models import OutboxEvent
from intents.models import Agreement, Intent
from tests.factories import UserFactory, VendorFactory
from vendors.models import Bid, Delivery
from vendors.photos import add_photo
from vendors.services import revise_bid

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
        "agreement": str(Agreement.objects.roster().get(code="standard").pk),
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
    newest_first = signed_in.get(reverse("intents:detail", args=[intent.pk]) + "?sort=newest").content.decode()
    assert newest_first.index("Dear Cars") < newest_first.index("Cheap Cars")


def test_the_comparison_marks_each_offer_against_her_wishes(signed_in, intent_with_bids):
    intent, (cheap, dear) = intent_with_bids  # she asked: Toyota, T3 or TR, at most 40,000 mi, aircon, 5 doors
    Bid.objects.filter(pk=cheap.pk).update(
        offered_attributes={"make": "Toyota", "model": "Yaris", "trim": "T3", "mileage": 38000, "aircon": True}
    )
    Bid.objects.filter(pk=dear.pk).update(offered_attributes={"make": "Toyota", "model": "Yaris", "trim": "T2"})
    response = signed_in.get(reverse("intents:detail", args=[intent.pk]) + "?sort=fit")
    offers = response.context["offers"]
    assert [offer.bid.vendor.name for offer in offers] == ["Cheap Cars", "Dear Cars"]
    marks = {offer.bid.vendor.name: {row.name: row.mark for row in offer.comparison.rows} for offer in offers}
    assert marks["Cheap Cars"]["trim"] == "meets" and marks["Cheap Cars"]["mileage"] == "meets"
    assert marks["Dear Cars"]["trim"] == "differs" and marks["Dear Cars"]["mileage"] == "not_stated"
    html = response.content.decode()
    assert "38,000 mi" in html and "£3,500" in html and "£500 under your budget" in html
    assert "(differs from your wish)" in html and "not stated" in html


def test_a_revised_offer_shows_what_it_was_and_an_expired_one_cannot_be_accepted(signed_in, intent_with_bids):
    intent, (cheap, dear) = intent_with_bids
    revise_bid(bid=cheap, amount=Decimal("3400"))
    Bid.objects.filter(pk=dear.pk).update(valid_until=timezone.now() - timedelta(hours=1))
    response = signed_in.get(reverse("intents:detail", args=[intent.pk]))
    html = response.content.decode()
    assert "£3,400" in html and "was <s>£3,500</s>" in html
    assert "Expired" in html
    assert reverse("intents:accept", args=[intent.pk, dear.pk]) not in html
    assert reverse("intents:accept", args=[intent.pk, cheap.pk]) in html


def test_a_sealed_request_shows_her_no_offer_before_its_deadline(signed_in, intent_with_bids):
    intent, _ = intent_with_bids
    Intent.objects.filter(pk=intent.pk).update(format="sealed", sealed_until=timezone.now() + timedelta(days=2))
    html = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "2 offers received so far" in html and "Cheap Cars" not in html and "£3,500" not in html
    Intent.objects.filter(pk=intent.pk).update(sealed_until=timezone.now() - timedelta(minutes=1))
    html = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "Cheap Cars" in html and "Dear Cars" in html


def test_the_offers_section_alone_is_served_for_live_updates(signed_in, intent_with_bids):
    intent, _ = intent_with_bids
    html = signed_in.get(reverse("intents:offers", args=[intent.pk])).content.decode()
    assert html.lstrip().startswith('<section id="offers"') and "Cheap Cars" in html
    detail = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert 'hx-trigger="every 5s"' in detail and "/static/django_htmx/htmx" in detail  # from our own static files


def test_accepting_asks_first_then_declines_the_others_and_closes_the_request(signed_in, intent_with_bids):
    intent, (cheap, dear) = intent_with_bids
    confirm = signed_in.get(reverse("intents:accept", args=[intent.pk, cheap.pk])).content.decode()
    assert "Accept Cheap Cars" in confirm and "The other 1 offer will be declined" in confirm
    cheap.refresh_from_db()
    assert cheap.status == "active"  # asking changed nothing
    response = signed_in.post(reverse("intents:accept", args=[intent.pk, cheap.pk]), follow=True)
    assert b"Deal agreed with Cheap Cars" in response.content
    cheap.refresh_from_db(), dear.refresh_from_db(), intent.refresh_from_db()
    assert (cheap.status, dear.status, intent.status) == ("accepted", "declined", "accepted")
    assert dear.decline_reason == "another_accepted"
    again = signed_in.post(reverse("intents:accept", args=[intent.pk, dear.pk]), follow=True)
    assert again.status_code == 200 and b"This request is deal agreed." in again.content
    dear.refresh_from_db()
    assert dear.status == "declined"


def test_decline_and_withdraw_ask_for_a_reason(signed_in, intent_with_bids):
    intent, (cheap, dear) = intent_with_bids
    missing = signed_in.post(reverse("intents:decline", args=[intent.pk, cheap.pk]), {"reason": ""})
    assert missing.status_code == 200 and missing.context["form"].errors["reason"]
    cheap.refresh_from_db()
    assert cheap.status == "active"
    signed_in.post(reverse("intents:decline", args=[intent.pk, cheap.pk]), {"reason": "price"})
    cheap.refresh_from_db()
    assert (cheap.status, cheap.decline_reason) == ("declined", "price")
    confirm = signed_in.get(reverse("intents:withdraw", args=[intent.pk])).content.decode()
    assert "Withdraw this request?" in confirm and "I bought elsewhere" in confirm
    signed_in.post(reverse("intents:withdraw", args=[intent.pk]), {"reason": "bought_elsewhere"})
    intent.refresh_from_db(), dear.refresh_from_db()
    assert intent.status == "withdrawn" and intent.close_reason == "bought_elsewhere" and dear.status == "declined"


def test_block_asks_first(signed_in, intent_with_bids, customer):
    intent, (cheap, _) = intent_with_bids
    assert (
        "Block Cheap Cars?"
        in signed_in.get(reverse("intents:block", args=[intent.pk, cheap.vendor_id])).content.decode()
    )
    assert not customer.blocks.exists()


def test_she_asks_a_vendor_for_a_better_offer(signed_in, intent_with_bids):
    intent, (cheap, _) = intent_with_bids
    url = reverse("intents:counter", args=[intent.pk, cheap.pk])
    empty = signed_in.post(url, {"target_amount": "", "note": ""})
    assert empty.status_code == 200 and empty.context["form"].errors["target_amount"]
    negative = signed_in.post(url, {"target_amount": "-5", "note": ""})
    assert negative.context["form"].errors["target_amount"]
    assert not cheap.counters.exists()
    Bid.objects.filter(pk=cheap.pk).update(offered_attributes={"make": "Toyota", "mileage": 52000})
    bad = signed_in.post(url, {"target_amount": "3300", "want_mileage": "-1"})
    assert bad.status_code == 200 and bad.context["form"].errors["want_mileage"]
    response = signed_in.post(
        url, {"target_amount": "3300", "note": "Could you do 3,300?", "want_mileage": "45000"}, follow=True
    )
    assert b"can revise its offer or decline" in response.content
    counter = cheap.counters.get()
    assert counter.target_amount == Decimal("3300") and counter.target_attributes == {"mileage": 45000}
    assert "Mileage 45,000 mi" in response.content.decode()


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


def test_rate_once_the_deal_is_completed(signed_in, intent_with_bids):
    intent, (cheap, _) = intent_with_bids
    signed_in.post(reverse("intents:accept", args=[intent.pk, cheap.pk]))
    page = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "Deal agreed" in page and "Rate Cheap Cars" not in page  # not at acceptance
    url = reverse("intents:outcome", args=[intent.pk, cheap.pk])
    assert signed_in.post(url, {"outcome": "fell_through", "reason": ""}).context["form"].errors["reason"]
    signed_in.post(url, {"outcome": "completed"})
    page = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "Deal completed" in page and "Rate Cheap Cars" in page
    assert '<option value="" selected>Choose a score</option>' in page  # nothing preselected
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


# Limits, open-ended ranges, dependent choices, language, money ----------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"attr_mileage": "-5"}, "attr_mileage", "Enter a number: 0 or more."),
        ({"attr_year_0": "1800", "attr_year_1": ""}, "attr_year", "Enter a range from 1950 to"),
        ({"attr_engine_size": "12"}, "attr_engine_size", "Enter a number from 0.6 to 8."),
        ({"attr_doors": "1"}, "attr_doors", "Enter a number from 2 to 7."),
        ({"attr_make": "Ford", "attr_model": "Yaris"}, "attr_model", "Yaris does not go with Ford"),
        ({"attr_model": "Fiesta", "attr_trim": ["T3"]}, "attr_trim", "T3 does not go with Fiesta"),
        ({"details": "x" * 5001}, "details", "at most 5000 characters"),
        ({"language": "xx"}, "language", "Select a valid choice."),
    ],
)
def test_limits_are_shown_next_to_their_field_and_save_nothing(
    signed_in, categories, regions, overrides, field, message
):
    response = signed_in.post(new_url(categories), yaris_form(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field]), response.context["form"].errors
    html = response.content.decode()
    assert f'id="id_{field}-errors"' in html and "aria-invalid" in html
    assert not Intent.objects.exists() and not OutboxEvent.objects.exists()


@pytest.mark.parametrize(
    ("low", "high", "stored"),
    [("2006", "", {"min": 2006}), ("", "2010", {"max": 2010}), ("2003", "2006", {"min": 2003, "max": 2006})],
)
def test_open_ended_year_ranges_are_accepted(signed_in, categories, regions, low, high, stored):
    response = signed_in.post(new_url(categories), yaris_form(attr_year_0=low, attr_year_1=high))
    assert response.status_code == 302, response.context["form"].errors
    assert Intent.objects.get().attributes["year"] == stored


def test_the_form_shows_bounds_units_and_models_by_make(signed_in, categories, regions):
    form = signed_in.get(new_url(categories)).content.decode()
    assert "Mileage, at most (mi)" in form and "From 1950 to" in form and "From 0.6 to 8." in form
    assert '<optgroup label="Toyota">' in form and '<option value="Yaris">' in form
    assert "Mileage, at most (km)" in signed_in.get(new_url(categories, country="FR")).content.decode()


def test_a_model_of_the_chosen_make_is_stored(signed_in, categories, regions):
    signed_in.post(new_url(categories), yaris_form(attr_model="Yaris"))
    assert Intent.objects.get().attributes["model"] == "Yaris"


def test_the_language_select_defaults_to_the_browsers_language(signed_in, categories, regions):
    polish = signed_in.get(new_url(categories), HTTP_ACCEPT_LANGUAGE="pl-PL,pl;q=0.9,en;q=0.8")
    assert polish.context["form"]["language"].value() == "pl"
    assert "Language of your request" in polish.content.decode() and "Detect from the text" in polish.content.decode()
    unknown = signed_in.get(new_url(categories), HTTP_ACCEPT_LANGUAGE="xx-YY")
    assert unknown.context["form"]["language"].value() == "en"
    assert signed_in.get(new_url(categories)).context["form"]["language"].value() == "en"


def test_a_request_posted_in_polish_stores_pl(signed_in, categories, regions):
    polish = yaris_form(
        title="Szukam samochodu Toyota Yaris, srebrny", details="Niski przebieg, klimatyzacja.", language="pl"
    )
    assert signed_in.post(new_url(categories), polish).status_code == 302
    assert Intent.objects.get().language == "pl"


def test_detect_from_the_text(signed_in, categories, regions):
    detect = yaris_form(
        title="Szukam samochodu Toyota Yaris, srebrny", details="Niski przebieg, klimatyzacja.", language="auto"
    )
    signed_in.post(new_url(categories), detect)
    assert Intent.objects.get().language == "pl"


def test_without_a_language_field_the_browsers_language_is_stored(signed_in, categories, regions):
    signed_in.post(new_url(categories), yaris_form(), HTTP_ACCEPT_LANGUAGE="de-DE")
    assert Intent.objects.get().language == "de"


def test_details_of_5000_characters_are_accepted(signed_in, categories, regions):
    assert signed_in.post(new_url(categories), yaris_form(details="x" * 5000)).status_code == 302


def test_detail_page_shows_money_and_attributes_for_people(signed_in, intent_with_bids):
    intent, _bids = intent_with_bids
    page = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "budget up to £4,000" in page and "£3,500" in page and "£3,900" in page
    assert "3500.00 GBP" not in page and "4000.00 GBP" not in page
    assert "<dt>Mileage</dt><dd>at most 40,000 mi</dd>" in page and "<dd>T3 or TR</dd>" in page
    assert "<dd>yes</dd>" in page and "[" not in page.split('class="attributes"')[1].split("</dl>")[0]
    listing = signed_in.get(reverse("intents:list")).content.decode()
    assert "budget up to £4,000" in listing


def test_she_changes_an_open_request_and_bad_input_keeps_what_was_saved(signed_in, intent_with_bids):
    intent, _ = intent_with_bids
    url = reverse("intents:amend", args=[intent.pk])
    page = signed_in.get(url).content.decode()
    assert 'value="40000"' in page  # her current wishes are filled in
    bad = signed_in.post(url, {"details": "x", "attr_mileage": "-5", "budget_max": "4000"})
    assert bad.status_code == 200 and bad.context["form"].errors["attr_mileage"]
    intent.refresh_from_db()
    assert intent.revision == 1 and intent.attributes["mileage"] == 40000
    response = signed_in.post(
        url,
        {"details": "Now up to 60k miles.", "attr_make": "Toyota", "attr_mileage": "60000", "budget_max": "4500"},
        follow=True,
    )
    assert b"Saved." in response.content
    intent.refresh_from_db()
    assert intent.revision == 2 and intent.attributes["mileage"] == 60000 and intent.budget_max == Decimal("4500")
    assert OutboxEvent.objects.filter(kind="intent.amended", payload__intent_id=str(intent.pk)).exists()


def test_an_offers_photo_is_shown_and_served_safely(signed_in, intent_with_bids, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    intent, (cheap, _) = intent_with_bids
    image = io.BytesIO()
    Image.new("RGB", (640, 400), (192, 192, 196)).save(image, "JPEG")
    photo = add_photo(vendor=cheap.vendor, bid=cheap, upload=SimpleUploadedFile("car.jpg", image.getvalue()))
    html = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert f'src="{photo.image.url}"' in html and 'alt="Photo from Cheap Cars"' in html
    served = signed_in.get(photo.image.url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"


def test_the_thread_updates_itself(signed_in, intent_with_bids):
    intent, (cheap, _) = intent_with_bids
    Delivery.objects.get_or_create(intent=intent, vendor=cheap.vendor)
    html = signed_in.get(reverse("intents:thread", args=[intent.pk, cheap.vendor_id])).content.decode()
    assert 'id="thread"' in html and 'hx-trigger="every 5s"' in html and 'hx-select="#thread"' in html
