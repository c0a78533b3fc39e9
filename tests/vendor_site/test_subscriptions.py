"""The subscriptions editor of the vendor area: the API's rules (``save_subscription``), each bad
input next to its field with nothing saved, pause/resume, delete with confirmation, and the
preview of the last 30 days."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from broker.pipeline.matching import preview_subscription
from intents.models import Intent
from tests.factories import UserFactory
from vendors.models import Subscription, SubscriptionKey

pytestmark = pytest.mark.django_db

NEW = "/vendor/subscriptions/new/"


def valid(tree, *_, **overrides):
    return {
        "action": "save",
        "name": "GB cars",
        "categories": [tree["cars"].pk],
        "regions": ["GB"],
        "keywords": "",
        "language": "en",
        **overrides,
    }


def test_create_with_filters_then_edit_pause_resume_and_delete(dealer, categories, regions):
    response = dealer.post(
        NEW,
        valid(
            categories,
            regions,
            keywords="Yaris, Corolla hybrid",
            filter_make=["Toyota"],
            filter_mileage_0="",
            filter_mileage_1="60000",
            filter_aircon="true",
            min_budget="1500",
            min_budget_currency="GBP",
            daily_cap="20",
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    subscription = Subscription.objects.get(vendor=dealer.vendor)
    assert subscription.keywords == ["Yaris", "Corolla hybrid"]
    assert subscription.attribute_filters == {
        "make": {"in": ["Toyota"]},
        "mileage": {"max": 60000},
        "aircon": {"eq": True},
    }
    assert (subscription.min_budget, subscription.min_budget_currency, subscription.daily_cap) == (
        Decimal("1500"),
        "GBP",
        20,
    )
    assert SubscriptionKey.objects.filter(subscription=subscription).count() == 2  # two keyword stems

    page = dealer.get(f"/vendor/subscriptions/{subscription.pk}/")
    assert page.status_code == 200
    assert page.context["form"]["filter_make"].value() == ["Toyota"]
    assert "would have matched" in page.content.decode()

    changed = dealer.post(
        f"/vendor/subscriptions/{subscription.pk}/",
        valid(categories, regions, regions=["GB-LND", "FR"], keywords="Yaris", filter_make=["Toyota"]),
    )
    assert changed.status_code == 302
    subscription.refresh_from_db()
    assert sorted(r.code for r in subscription.regions.all()) == ["FR", "GB-LND"]
    assert subscription.attribute_filters == {"make": {"in": ["Toyota"]}}

    dealer.post(f"/vendor/subscriptions/{subscription.pk}/toggle/")
    subscription.refresh_from_db()
    assert subscription.active is False
    assert "Paused" in dealer.get("/vendor/subscriptions/").content.decode()
    dealer.post(f"/vendor/subscriptions/{subscription.pk}/toggle/")
    subscription.refresh_from_db()
    assert subscription.active is True

    confirm = dealer.get(f"/vendor/subscriptions/{subscription.pk}/delete/")
    assert confirm.status_code == 200 and Subscription.objects.exists()  # asking deletes nothing
    dealer.post(f"/vendor/subscriptions/{subscription.pk}/delete/")
    assert not Subscription.objects.exists() and not SubscriptionKey.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"categories": []}, "categories"),
        ({"regions": []}, "regions"),
        ({"regions": ["ZZ"]}, "regions"),
        ({"keywords": "!!!"}, "keywords"),
        ({"keywords": "x" * 80}, "keywords"),
        ({"filter_make": ["Trabant"]}, "filter_make"),
        ({"filter_mileage_0": "lots"}, "filter_mileage"),
        ({"filter_aircon": "maybe"}, "filter_aircon"),
        ({"min_budget": "1000"}, "min_budget_currency"),
        ({"min_budget": "1000", "min_budget_currency": "XYZ"}, "min_budget_currency"),
        ({"min_budget": "-5", "min_budget_currency": "GBP"}, "min_budget"),
        ({"min_budget": "lots", "min_budget_currency": "GBP"}, "min_budget"),
        ({"daily_cap": "-1"}, "daily_cap"),
        ({"language": "xx"}, "language"),
        ({"daily_cap": "99999999999"}, "daily_cap"),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_saves_nothing(dealer, categories, regions, overrides, field):
    response = dealer.post(NEW, valid(categories, regions, **overrides))
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert f'id="{form[field].auto_id}-errors"' in response.content.decode()
    assert not Subscription.objects.exists() and not SubscriptionKey.objects.exists()


def test_a_bad_change_keeps_the_saved_subscription(dealer, categories, regions, subscribe):
    subscription = subscribe(dealer.vendor, keywords=["Yaris"])
    response = dealer.post(f"/vendor/subscriptions/{subscription.pk}/", valid(categories, regions, keywords="!!!"))
    assert response.status_code == 400 and "keywords" in response.context["form"].errors
    subscription.refresh_from_db()
    assert subscription.keywords == ["Yaris"]


def test_finding_regions_and_showing_filters_save_nothing(dealer, categories, regions):
    response = dealer.post(NEW, {"action": "refresh", "categories": [categories["cars"].pk], "region_search": "manch"})
    assert response.status_code == 200 and not Subscription.objects.exists()
    form = response.context["form"]
    assert ("GB-MAN", "Manchester (England)") in form.fields["regions"].choices
    assert "filter_make" in form.fields and "filter_aircon" in form.fields


def test_another_vendors_subscription_is_404(dealer, categories, regions, subscribe, vendor):
    theirs = subscribe(vendor)
    assert dealer.get(f"/vendor/subscriptions/{theirs.pk}/").status_code == 404
    assert dealer.post(f"/vendor/subscriptions/{theirs.pk}/toggle/").status_code == 404
    assert dealer.post(f"/vendor/subscriptions/{theirs.pk}/delete/").status_code == 404
    assert Subscription.objects.get(pk=theirs.pk).active


def test_preview_counts_the_last_30_days_requests_the_subscription_admits(dealer, categories, regions, publish):
    customer = UserFactory()
    publish(customer)  # a London Yaris, £4,000: matches
    publish(customer, title="Yaris for my son", details="", region=regions["GB-MAN"], budget_max=Decimal("3000"))
    publish(customer, title="Toyota Yaris in Paris", region=regions["FR"])  # outside GB
    publish(customer, title="Ford Fiesta", details="", attributes={"make": "Ford"})  # not a Yaris
    publish(customer, title="Cheap Yaris", details="", budget_max=Decimal("500"))  # under the minimum
    publish(customer, title="Yaris, petrol", details="", attributes={"make": "Honda"})  # the make filter
    old = publish(customer, title="Old Yaris request")
    Intent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))

    count = preview_subscription(
        categories=[categories["vehicles"]],
        regions=[regions["GB"]],
        keywords=["Yaris"],
        language="en",
        attribute_filters={"make": {"in": ["Toyota"]}},
        min_budget=Decimal("1000"),
        min_budget_currency="GBP",
    )
    assert count == 2

    response = dealer.post(
        NEW,
        valid(
            categories,
            regions,
            action="preview",
            keywords="Yaris",
            filter_make=["Toyota"],
            min_budget="1000",
            min_budget_currency="GBP",
        ),
    )
    assert response.status_code == 200 and response.context["preview"] == 2
    assert "would have matched <strong>2 requests</strong> in the last 30 days" in response.content.decode()
    assert not Subscription.objects.exists()  # a preview saves nothing
    # A narrower region: only the London request.
    assert dealer.post(NEW, valid(categories, regions, action="preview", regions=["GB-LND"])).context["preview"] == 4
