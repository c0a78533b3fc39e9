"""Who hears her, on the website: the "Who hears this request" fields of the request form and
of the change page (bad input shown next to the field, nothing saved), ``?invite=``, and who has
the request on its page."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from intents.models import Intent
from tests.factories import IntentFactory, VendorFactory
from tests.website.test_requests import new_url, yaris_form
from vendors.models import AudienceChoice, Bid, Delivery
from vendors.services import save_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def history(customer, categories, regions):
    """Three vendors her earlier request reached, each selling cars somewhere."""
    past = IntentFactory(customer=customer, title="An earlier car", category=categories["cars"], region=regions["GB"])
    vendors = {}
    for name, region in (("Friendly Motors", "FR"), ("Pushy Cars", "GB"), ("Quiet Autos", "GB")):
        vendor = VendorFactory(name=name)
        save_subscription(vendor=vendor, categories=[categories["cars"]], regions=[regions[region]])
        Delivery.objects.create(intent=past, vendor=vendor)
        vendors[name] = vendor
    return vendors


def errors_of(response, field: str) -> str:
    """The messages shown next to a field (its errors list, which the input points at)."""
    content = response.content.decode()
    marker = f'id="id_{field}-errors"'
    assert marker in content, f"no errors next to {field}"
    return content.split(marker, 1)[1].split("</ul>", 1)[0]


def checked(content: str, name: str) -> set[int]:
    """The values of the ticked checkboxes named ``name``."""
    inputs = re.findall(rf'<input type="checkbox" name="{name}" value="(\d+)"[^>]*>', content)
    ticked = re.findall(rf'<input type="checkbox" name="{name}" value="(\d+)"[^>]* checked[^>]*>', content)
    assert inputs or not ticked
    return {int(value) for value in ticked}


def test_the_form_says_who_hears_the_request(signed_in, categories, history):
    response = signed_in.get(new_url(categories))
    content = response.content.decode()
    assert "<legend>Who hears this request</legend>" in content
    for label in ("Reach at most this many vendors", "Lowest rating (stars)", "New vendors"):
        assert label in content
    assert "Invite vendors you have dealt with" in content and "Leave out vendors" in content
    assert "Friendly Motors" in content and "Pushy Cars" in content


def test_without_history_there_is_nobody_to_name(signed_in, categories, regions):
    content = signed_in.get(new_url(categories)).content.decode()
    assert "Once vendors have answered your requests" in content
    assert 'name="invite"' not in content


def test_invite_link_pre_selects_the_vendor(signed_in, categories, history):
    friendly = history["Friendly Motors"]
    content = signed_in.get(f"{new_url(categories)}&invite={friendly.pk}").content.decode()
    assert checked(content, "invite") == {friendly.pk}
    # From "My vendors", before the category is chosen: carried through the first step.
    first = signed_in.get(f"{reverse('intents:new')}?invite={friendly.pk}").content.decode()
    assert f'<input type="hidden" name="invite" value="{friendly.pk}">' in first
    assert "This field is required" not in first


def test_invite_link_for_a_stranger_selects_nobody(signed_in, categories, history):
    stranger = VendorFactory(name="Stranger Cars")
    content = signed_in.get(f"{new_url(categories)}&invite={stranger.pk}").content.decode()
    assert (
        "Stranger Cars" not in content
        and " checked" not in content.split("Invite vendors", 1)[1].split("</fieldset>")[0]
    )


def test_publishing_with_an_audience(signed_in, customer, categories, history, django_capture_on_commit_callbacks):
    friendly, pushy, quiet = history["Friendly Motors"], history["Pushy Cars"], history["Quiet Autos"]
    form = yaris_form(
        audience_max="2", audience_min_rating="4.5", audience_new="include", invite=[friendly.pk], exclude=[pushy.pk]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(new_url(categories), form)
    assert response.status_code == 302
    intent = Intent.objects.get(customer=customer, title__startswith="Low-mileage")
    assert (intent.audience_max, intent.audience_min_rating, intent.audience_include_new) == (2, Decimal("4.5"), True)
    assert dict(AudienceChoice.objects.filter(intent=intent).values_list("vendor_id", "kind")) == {
        friendly.pk: "invite",
        pushy.pk: "exclude",
    }
    # Friendly Motors sells only in France: invited, it hears her; Quiet Autos is new, and included.
    reached = set(Delivery.objects.filter(intent=intent).values_list("vendor_id", flat=True))
    assert reached == {friendly.pk, quiet.pk}


def test_leaving_out_new_vendors(signed_in, customer, categories, history):
    assert signed_in.post(new_url(categories), yaris_form(audience_new="leave_out")).status_code == 302
    assert Intent.objects.get(customer=customer, title__startswith="Low-mileage").audience_include_new is False


def test_a_form_without_the_audience_fields_reaches_everyone(signed_in, customer, categories, regions):
    assert signed_in.post(new_url(categories), yaris_form()).status_code == 302
    intent = Intent.objects.get(customer=customer)
    assert (intent.audience_max, intent.audience_min_rating, intent.audience_include_new) == (None, None, True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("audience_max", "lots", "Enter a whole number of vendors"),
        ("audience_max", "0", "Choose from 1 to 500 vendors"),
        ("audience_max", "501", "Choose from 1 to 500 vendors"),
        ("audience_max", "2.5", "Enter a whole number of vendors"),
        ("audience_min_rating", "four", "Enter a number of stars"),
        ("audience_min_rating", "0.5", "at least 1 star"),
        ("audience_min_rating", "6", "at most 5 stars"),
        ("audience_min_rating", "4.25", "at most one decimal"),
        ("audience_new", "maybe", "Choose whether new vendors may hear it"),
    ],
)
def test_bad_audience_input_is_shown_next_to_the_field(signed_in, customer, categories, history, field, value, message):
    response = signed_in.post(new_url(categories), yaris_form(**{field: value}))
    assert response.status_code == 200
    assert message in errors_of(response, field)
    assert not Intent.objects.filter(title__startswith="Low-mileage").exists()
    assert 'aria-invalid="true"' in response.content.decode()


def test_inviting_a_vendor_not_in_her_history_is_refused(signed_in, categories, history):
    stranger = VendorFactory(name="Stranger Cars")
    response = signed_in.post(new_url(categories), yaris_form(invite=[stranger.pk]))
    assert "only vendors you have dealt with" in errors_of(response, "invite")
    response = signed_in.post(new_url(categories), yaris_form(exclude=[stranger.pk]))
    assert "from the list" in errors_of(response, "exclude")
    response = signed_in.post(new_url(categories), yaris_form(invite=["abc"]))
    assert "only vendors you have dealt with" in errors_of(response, "invite")
    assert not Intent.objects.filter(title__startswith="Low-mileage").exists()
    assert not AudienceChoice.objects.exists()


def test_without_history_a_forged_invitation_is_still_shown_as_an_error(signed_in, categories, regions):
    stranger = VendorFactory(name="Stranger Cars")
    response = signed_in.post(new_url(categories), yaris_form(invite=[stranger.pk]))
    assert "only vendors you have dealt with" in errors_of(response, "invite")
    assert not Intent.objects.exists()


def test_a_vendor_both_invited_and_left_out_is_refused(signed_in, categories, history):
    friendly = history["Friendly Motors"]
    response = signed_in.post(new_url(categories), yaris_form(invite=[friendly.pk], exclude=[friendly.pk]))
    assert "both invited and left out" in errors_of(response, "exclude")
    assert not Intent.objects.filter(title__startswith="Low-mileage").exists()


def test_more_invitations_than_her_maximum_is_refused(signed_in, categories, history):
    invited = [history["Friendly Motors"].pk, history["Quiet Autos"].pk]
    response = signed_in.post(new_url(categories), yaris_form(invite=invited, audience_max="1"))
    assert "allow at least 2" in errors_of(response, "audience_max")
    assert not Intent.objects.filter(title__startswith="Low-mileage").exists()


# After casting ---------------------------------------------------------------------------------


@pytest.fixture
def cast(customer, categories, regions, history):
    intent = IntentFactory(
        customer=customer, title="Toyota Yaris", category=categories["cars"], region=regions["GB-LND"], currency="GBP"
    )
    now = timezone.now()
    friendly, pushy, quiet = history["Friendly Motors"], history["Pushy Cars"], history["Quiet Autos"]
    Delivery.objects.create(intent=intent, vendor=friendly, seen_at=now)
    Delivery.objects.create(intent=intent, vendor=pushy, seen_at=now, passed_at=now, pass_reason="area")
    Delivery.objects.create(intent=intent, vendor=quiet)
    Bid.objects.create(intent=intent, vendor=friendly, amount=Decimal("3950"), currency="GBP")
    AudienceChoice.objects.create(intent=intent, vendor=friendly, kind="invite")
    Intent.objects.filter(pk=intent.pk).update(audience_named=True)
    return intent


def test_request_page_shows_who_has_it_and_what_each_did(signed_in, cast):
    content = signed_in.get(reverse("intents:detail", args=[cast.pk])).content.decode()
    section = content.split('id="audience-heading"', 1)[1]
    assert "3 vendors have it" in section
    rows = {
        name: section.split(name, 1)[1].split("</tr>", 1)[0]
        for name in ("Friendly Motors", "Pushy Cars", "Quiet Autos")
    }
    assert "invited" in rows["Friendly Motors"] and "Made an offer" in rows["Friendly Motors"]
    assert "Passed: outside our area" in rows["Pushy Cars"]
    assert "Not yet" in rows["Quiet Autos"] and "No answer yet" in rows["Quiet Autos"]


def audience_row(content: str, name: str) -> str:
    return content.split('id="audience-heading"', 1)[1].split(name, 1)[1].split("</tr>", 1)[0]


def test_a_vendor_that_bid_without_opening_her_request_counts_as_having_opened_it(signed_in, cast):
    """A vendor may bid through the API without reading the request first: its row says when it
    bid, not "Not yet" beside "Made an offer", and it counts among those that opened it."""
    bidder = VendorFactory(name="Api Motors")
    Delivery.objects.create(intent=cast, vendor=bidder)  # never seen
    bid = Bid.objects.create(intent=cast, vendor=bidder, amount=Decimal("3900"), currency="GBP")
    bid_at = timezone.localtime(bid.created_at)
    content = signed_in.get(reverse("intents:detail", args=[cast.pk])).content.decode()
    row = audience_row(content, "Api Motors")
    assert "Made an offer" in row and "Not yet" not in row
    assert f'<td data-label="Opened">{bid_at:%-d %b, %H:%M}</td>' in row
    assert "Not yet" in audience_row(content, "Quiet Autos")  # neither read nor bid
    assert "Your request reached 4 vendors; 3 opened it, 1 passed." in content


def test_while_offers_are_sealed_a_bid_does_not_show_as_opened(signed_in, cast):
    """Sealed offers hide who bid: a vendor that bid without reading stays "Not yet"."""
    bidder = VendorFactory(name="Api Motors")
    Delivery.objects.create(intent=cast, vendor=bidder)
    Bid.objects.create(intent=cast, vendor=bidder, amount=Decimal("3900"), currency="GBP")
    Intent.objects.filter(pk=cast.pk).update(format="sealed", sealed_until=timezone.now() + timedelta(days=2))
    content = signed_in.get(reverse("intents:detail", args=[cast.pk])).content.decode()
    row = audience_row(content, "Api Motors")
    assert "Not yet" in row and "Offers are sealed" in row
    assert "Your request reached 4 vendors; 2 opened it, 1 passed." in content


def test_request_page_before_anyone_has_it(signed_in, customer, categories, regions):
    intent = IntentFactory(
        customer=customer, category=categories["cars"], region=regions["GB"], audience_min_rating=Decimal("4")
    )
    content = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "No vendor has it yet. You limited who hears it: rated 4.0 stars or more." in content


# Changing who hears it -------------------------------------------------------------------------


def test_changing_who_hears_it(signed_in, cast, history, django_capture_on_commit_callbacks):
    pushy = history["Pushy Cars"]
    url = reverse("intents:amend", args=[cast.pk])
    page = signed_in.get(url).content.decode()
    assert "<legend>Who hears this request</legend>" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            url,
            {"details": "Any colour", "audience_max": "5", "audience_new": "include", "exclude": [pushy.pk]},
        )
    assert response.status_code == 302
    cast.refresh_from_db()
    assert cast.audience_max == 5 and cast.revision == 2
    assert dict(AudienceChoice.objects.filter(intent=cast).values_list("vendor_id", "kind")) == {pushy.pk: "exclude"}
    assert Delivery.objects.get(intent=cast, vendor=pushy).withdrawn_at is not None


def test_bad_audience_input_on_the_change_page(signed_in, cast):
    url = reverse("intents:amend", args=[cast.pk])
    response = signed_in.post(url, {"details": "Any colour", "audience_max": "-3"})
    assert "Choose from 1 to 500 vendors" in errors_of(response, "audience_max")
    cast.refresh_from_db()
    assert cast.revision == 1 and cast.audience_max is None
