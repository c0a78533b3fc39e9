import pytest

from vendors.models import Subscription, SubscriptionKey

pytestmark = pytest.mark.django_db

URL = "/api/v1/subscriptions/"


def valid(**overrides):
    return {"name": "GB cars", "categories": ["cars"], "regions": ["GB"], **overrides}


def test_create_list_change_delete(vendor_client, categories, regions):
    created = vendor_client.post(
        URL,
        valid(keywords=["Yaris"], attribute_filters={"make": {"in": ["Toyota"]}, "mileage": {"max": 60000}}),
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["categories"] == ["cars"] and body["regions"] == ["GB"]
    assert body["attribute_filters"] == {"make": {"in": ["Toyota"]}, "mileage": {"max": 60000}}
    assert SubscriptionKey.objects.filter(subscription_id=body["id"]).count() == 1

    listed = vendor_client.get(URL).json()["results"]
    assert [s["id"] for s in listed] == [body["id"]]

    changed = vendor_client.patch(f"{URL}{body['id']}/", {"regions": ["GB-LND", "FR"], "active": False}, format="json")
    assert changed.status_code == 200
    assert sorted(changed.json()["regions"]) == ["FR", "GB-LND"] and changed.json()["active"] is False
    assert changed.json()["keywords"] == ["Yaris"]  # untouched fields stay
    assert SubscriptionKey.objects.filter(subscription_id=body["id"]).count() == 2

    assert vendor_client.delete(f"{URL}{body['id']}/").status_code == 204
    assert not Subscription.objects.exists() and not SubscriptionKey.objects.exists()


def test_filters_may_name_attributes_of_descendant_categories(vendor_client, categories, regions):
    response = vendor_client.post(
        URL, valid(categories=["vehicles"], attribute_filters={"doors": {"min": 4}}), format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (valid(categories=["spaceships"]), "categories"),
        (valid(categories=[]), "categories"),
        (valid(regions=["XX-NOPE"]), "regions"),
        (valid(regions=[]), "regions"),
        (valid(keywords="yaris"), "keywords"),
        (valid(keywords=["!!!"]), "keywords"),
        (valid(attribute_filters={"wingspan": {"max": 3}}), "attribute_filters"),
        (valid(attribute_filters={"make": {"max": 3}}), "attribute_filters"),
        (valid(attribute_filters={"make": {"in": ["Trabant"]}}), "attribute_filters"),
        (valid(attribute_filters={"mileage": {"min": "lots"}}), "attribute_filters"),
        (valid(attribute_filters={"aircon": {"eq": "maybe"}}), "attribute_filters"),
        (valid(attribute_filters=["make"]), "attribute_filters"),
        (valid(min_budget="1000"), "min_budget_currency"),
        (valid(min_budget="1000", min_budget_currency="XYZ"), "min_budget_currency"),
        (valid(min_budget="-5", min_budget_currency="GBP"), "min_budget"),
        (valid(daily_cap=-1), "daily_cap"),
        (valid(language="\n"), "language"),
        (valid(language="\x1c"), "language"),  # a separator: Python trims it, JSON Schema's \S does not
        (valid(language="toolonglang"), "language"),
    ],
)
def test_bad_subscription_is_400_with_the_field_and_saves_nothing(vendor_client, categories, regions, payload, field):
    response = vendor_client.post(URL, payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert not Subscription.objects.exists()


def test_bad_change_keeps_the_saved_subscription(vendor_client, categories, regions):
    body = vendor_client.post(URL, valid(), format="json").json()
    response = vendor_client.patch(f"{URL}{body['id']}/", {"regions": [], "name": "renamed"}, format="json")
    assert response.status_code == 400
    subscription = Subscription.objects.get(pk=body["id"])
    assert subscription.name == "GB cars"
    assert [r.code for r in subscription.regions.all()] == ["GB"]
    assert SubscriptionKey.objects.filter(subscription=subscription).count() == 1


def test_malformed_json_is_400(vendor_client, categories, regions):
    response = vendor_client.generic("POST", URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_another_vendors_subscription_is_404(vendor_client, make_vendor_client, categories, regions):
    other = make_vendor_client()
    body = other.post(URL, valid(), format="json").json()
    assert vendor_client.get(f"{URL}{body['id']}/").status_code == 404
    assert vendor_client.patch(f"{URL}{body['id']}/", {"name": "mine"}, format="json").status_code == 404
    assert vendor_client.delete(f"{URL}{body['id']}/").status_code == 404
    assert Subscription.objects.get(pk=body["id"]).name == "GB cars"


@pytest.mark.parametrize(
    "payload",
    [valid(categories=["ca\x00rs"]), valid(name="x\x00y"), valid(attribute_filters={"ma\x00ke": {"in": ["a"]}})],
)
def test_nul_characters_are_refused_with_400(vendor_client, categories, regions, payload):
    # Found by schemathesis: PostgreSQL cannot store NUL in text and failed with a 500.
    response = vendor_client.post(URL, payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert not Subscription.objects.exists()


def test_nul_in_the_query_string_is_400(vendor_client):
    response = vendor_client.get("/api/v1/intents/", {"category": "ca\x00rs"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"
