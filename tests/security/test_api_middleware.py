"""The vendor API (/api/v1/) passes by the website's middleware (sessions, logins, messages,
static files) and gets its policy header built once, yet answers with every header and limit it
had; the website, and the API's docs pages, go through all of it as before."""

import pytest
from csp.utils import build_policy
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext

from broker.middleware import (
    ContentSecurityPolicyMiddleware,
    WebsiteAuthenticationMiddleware,
    WebsiteMessageMiddleware,
    WebsiteSessionMiddleware,
)
from tests.security.test_headers import production  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

WEBSITE_ONLY = [WebsiteSessionMiddleware, WebsiteAuthenticationMiddleware, WebsiteMessageMiddleware]


def what_the_view_saw(middleware_class, request):
    seen = {}

    def view(request):
        seen.update(session=hasattr(request, "session"), user=hasattr(request, "user"))
        seen.update(messages=hasattr(request, "_messages"))
        return HttpResponse("ok")

    chain = view
    for each in reversed(middleware_class):
        chain = each(chain)
    chain(request)
    return seen


def test_an_api_request_passes_by_the_website_middleware(rf):
    seen = what_the_view_saw(WEBSITE_ONLY, rf.get("/api/v1/intents/"))
    assert seen == {"session": False, "user": False, "messages": False}


@pytest.mark.parametrize("path", ["/", "/vendor/", "/api/docs/", "/api/schema/", "/api/v1"])
def test_the_website_and_the_api_docs_go_through_it(rf, path):
    assert what_the_view_saw(WEBSITE_ONLY, rf.get(path)) == {"session": True, "user": True, "messages": True}


def test_an_api_answer_keeps_its_headers_under_production(vendor_client, production):  # noqa: F811
    response = vendor_client.get("/api/v1/intents/", HTTP_HOST="intentcast.example", secure=True)
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == build_policy()
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Strict-Transport-Security"].startswith("max-age=")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    assert len(response["X-Request-ID"]) >= 16
    assert not response.cookies  # no session, no CSRF cookie


def test_an_api_request_with_a_session_cookie_reads_no_session(vendor_client, customer, client):
    client.force_login(customer)
    vendor_client.cookies.update(client.cookies)
    with CaptureQueriesContext(connection) as captured:
        assert vendor_client.get("/api/v1/intents/").status_code == 200
    assert not any("django_session" in q["sql"] for q in captured)
    assert "sessionid" not in vendor_client.get("/api/v1/intents/").cookies


def test_the_limits_and_the_nul_check_still_answer_under_the_api(vendor_client, settings):
    settings.API_MAX_QUERY_STRING = 100
    response = vendor_client.get("/api/v1/intents/?q=" + "x" * 200)
    assert response.status_code == 414 and response.json()["error"]["code"] == "uri_too_long"
    response = vendor_client.get("/api/v1/intents/?status=open%00")
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"


def test_the_api_policy_follows_a_change_of_the_settings(vendor_client, settings):
    before = vendor_client.get("/api/v1/intents/")["Content-Security-Policy"]
    assert before == build_policy()
    policy = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**policy["DIRECTIVES"], "img-src": ["'self'", "photos.example"]}}
    after = vendor_client.get("/api/v1/intents/")["Content-Security-Policy"]
    assert after == build_policy() and "photos.example" in after and after != before


def test_a_response_with_a_policy_of_its_own_keeps_it_under_the_api(rf):
    def view(request):
        response = HttpResponse("ok")
        response._csp_update = {"img-src": ["photos.example"]}
        return response

    response = ContentSecurityPolicyMiddleware(view)(rf.get("/api/v1/intents/"))
    assert "photos.example" in response["Content-Security-Policy"]
    assert response["Content-Security-Policy"] != build_policy()


def test_the_policy_of_a_page_is_built_as_django_csp_builds_it(client):
    response = client.get("/")
    assert response["Content-Security-Policy"] == build_policy()
