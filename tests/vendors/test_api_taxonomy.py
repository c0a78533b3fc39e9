import pytest

pytestmark = pytest.mark.django_db


def test_categories_carry_their_attribute_schemas(vendor_client, categories):
    body = vendor_client.get("/api/v1/categories/").json()
    cars = next(c for c in body["results"] if c["slug"] == "cars")
    assert cars["parent"] == "vehicles"
    assert {"make", "mileage", "aircon"} <= {a["name"] for a in cars["attributes"]}


def test_regions_form_a_tree(vendor_client, regions):
    body = vendor_client.get("/api/v1/regions/", {"parent": "GB-ENG"}).json()
    assert {r["code"] for r in body["results"]} == {"GB-LND", "GB-MAN"}
    assert all(r["parent"] == "GB-ENG" for r in body["results"])
    countries = vendor_client.get("/api/v1/regions/", {"kind": "country"}).json()
    assert {r["code"] for r in countries["results"]} == {"GB", "FR"}


def test_region_filter_with_a_bad_kind_is_400(vendor_client, regions):
    response = vendor_client.get("/api/v1/regions/", {"kind": "planet"})
    assert response.status_code == 400
    assert "kind" in response.json()["error"]["fields"]
