"""Every list pages the same way: a cursor, a documented default and maximum page size, and a 400
in the API's error shape for a bad ``page_size`` or ``cursor``."""

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/categories/",
    "/api/v1/regions/",
    "/api/v1/subscriptions/",
    "/api/v1/intents/",
    "/api/v1/bids/",
    "/api/v1/events/",
    "/api/v1/webhooks/",
]


def test_categories_are_paginated_like_every_list(vendor_client, categories):
    first = vendor_client.get("/api/v1/categories/", {"page_size": 2}).json()
    assert set(first) >= {"results", "next", "previous"}
    assert len(first["results"]) == 2 and first["next"]
    seen = [c["slug"] for c in first["results"]]
    page = first
    while page["next"]:
        page = vendor_client.get(page["next"]).json()
        seen += [c["slug"] for c in page["results"]]
    assert sorted(seen) == sorted(c.slug for c in categories.values())
    assert len(seen) == len(set(seen))


def test_categories_default_page_holds_the_taxonomy(vendor_client, categories):
    body = vendor_client.get("/api/v1/categories/").json()
    assert len(body["results"]) == len(categories) and body["next"] is None


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "1.5", "", "١", "100000"])
def test_a_bad_page_size_is_a_400(vendor_client, path, page_size):
    response = vendor_client.get(path, {"page_size": page_size})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["page_size"]


@pytest.mark.parametrize("path", LISTS)
def test_the_maximum_page_size_is_accepted_and_one_more_is_not(vendor_client, path):
    limit = 1000 if path in ("/api/v1/categories/", "/api/v1/regions/") else 200
    assert vendor_client.get(path, {"page_size": limit}).status_code == 200
    assert vendor_client.get(path, {"page_size": limit + 1}).status_code == 400


# A position that is no date ("p=not-a-date") is garbage wherever a list is ordered by time or id;
# categories are ordered by a text path, where any text is a position, so that case is not theirs.
CURSORS = [
    (path, cursor)
    for path in LISTS
    for cursor in ["", "garbage", "!!!", "é", "bz0tMQ==", "cj14", "cD1ub3QtYS1kYXRl"]  # o=-1, r=x, p=not-a-date
    if not (path == "/api/v1/categories/" and cursor == "cD1ub3QtYS1kYXRl")
]


@pytest.mark.parametrize(("path", "cursor"), CURSORS)
def test_a_garbage_cursor_is_a_400_not_a_404(vendor_client, path, cursor):
    response = vendor_client.get(path, {"cursor": cursor})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["cursor"]


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/intents/", "status"),
        ("/api/v1/intents/", "category"),
        ("/api/v1/intents/", "since"),
        ("/api/v1/bids/", "status"),
        ("/api/v1/bids/", "intent"),
        ("/api/v1/regions/", "kind"),
        ("/api/v1/regions/", "parent"),
    ],
)
def test_a_filter_given_blank_is_a_400_not_ignored(vendor_client, path, parameter):
    response = vendor_client.get(path, {parameter: ""})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {parameter: ["Give a value, or leave the parameter out."]}


def test_a_real_cursor_still_works(vendor_client, categories):
    first = vendor_client.get("/api/v1/categories/", {"page_size": 1}).json()
    second = vendor_client.get(first["next"])
    assert second.status_code == 200
    assert second.json()["results"][0]["slug"] != first["results"][0]["slug"]


def test_every_list_documents_its_page_size():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in LISTS:
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert "cursor" in parameters, path
        page_size = parameters["page_size"]["schema"]
        assert page_size["minimum"] == 1
        assert page_size["default"] <= page_size["maximum"], path
        assert str(page_size["default"]) in parameters["page_size"]["description"], path
        assert str(page_size["maximum"]) in parameters["page_size"]["description"], path
    regions = {p["name"]: p for p in schema["paths"]["/api/v1/regions/"]["get"]["parameters"]}
    assert regions["page_size"]["schema"]["default"] == 500
