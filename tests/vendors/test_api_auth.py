import pytest
from django.core.management import call_command

from tests.factories import VendorFactory
from vendors.models import Vendor
from vendors.services import issue_api_key, revoke_api_key

pytestmark = pytest.mark.django_db


def test_no_key_is_401_in_the_error_format(api_client):
    response = api_client.get("/api/v1/intents/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"


def test_unknown_key_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer ic_deadbeef_nope")
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Unknown or revoked API key."


def test_wrong_scheme_is_401(api_client, vendor):
    _, raw_key = issue_api_key(vendor=vendor)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw_key}")
    assert api_client.get("/api/v1/me/").status_code == 401


def test_revoked_key_is_401(api_client, vendor):
    api_key, raw_key = issue_api_key(vendor=vendor)
    revoke_api_key(api_key=api_key)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert api_client.get("/api/v1/me/").status_code == 401


def test_key_is_stored_only_as_a_digest(vendor):
    api_key, raw_key = issue_api_key(vendor=vendor)
    assert raw_key.startswith(f"ic_{api_key.prefix}_")
    assert raw_key not in api_key.digest and api_key.digest != raw_key


@pytest.mark.parametrize("status", [Vendor.Status.PENDING, Vendor.Status.SUSPENDED])
def test_vendor_not_approved_sees_its_status_but_nothing_else(make_vendor_client, status):
    client = make_vendor_client(VendorFactory(status=status))
    me = client.get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["status"] == status
    for path in ("/api/v1/intents/", "/api/v1/bids/", "/api/v1/subscriptions/", "/api/v1/events/"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "permission_denied"


def test_me_shows_the_vendor_and_its_reputation(vendor_client):
    body = vendor_client.get("/api/v1/me/").json()
    assert body["name"] == "Yaris Specialists"
    assert body["status"] == "approved"
    assert body["reputation"] == {"ratings": 0, "score": None}


def test_schema_and_docs_are_public(api_client):
    schema = api_client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/bids/" in schema.content
    assert api_client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/v1/intents/not-a-uuid/", "/api/v1/subscriptions/42/", "/api/v1/nothing-here/", "/api/v2/me/"]
)
def test_unknown_api_paths_are_json_404(vendor_client, path):
    response = vendor_client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_openapi_schema_validates():

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
