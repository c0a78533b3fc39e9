from functools import cache
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from whitenoise.middleware import WhiteNoiseMiddleware

from broker.api.errors import TOO_LARGE, URI_TOO_LONG, error_body
from broker.core import request_id
from vendors.team import current_membership, is_vendor_account

# The vendor API: bearer keys and JSON, no cookies, no pages. Its schema and docs pages
# (/api/schema/, /api/docs/, /api/redoc/) are the website's and go through all of it.
VENDOR_API_PREFIX = "/api/v1/"


def is_vendor_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(VENDOR_API_PREFIX)


class WebsiteOnlyMixin:
    """Mixed into a middleware that only the website's pages need (sessions, logins, flash
    messages, static files): a request to the vendor API passes straight by it. Nothing under
    ``/api/v1/`` reads the session, the Django login or messages: its views authenticate the key
    (``broker.api.authentication``), DRF sets ``request.user`` to the vendor, and every one is
    exempt from CSRF (a key, not a cookie, authenticates it). Each costs 10-30 microseconds a
    request, which the API's callers, many calls a second, pay for nothing."""

    get_response: Any

    def __call__(self, request):
        if is_vendor_api(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class WebsiteSessionMiddleware(WebsiteOnlyMixin, SessionMiddleware):
    pass


class WebsiteAuthenticationMiddleware(WebsiteOnlyMixin, AuthenticationMiddleware):
    pass


class WebsiteMessageMiddleware(WebsiteOnlyMixin, MessageMiddleware):
    pass


class WebsiteStaticFilesMiddleware(WebsiteOnlyMixin, WhiteNoiseMiddleware):
    pass


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the vendor API's policy built once per process: there no
    response has a nonce or a policy of its own, so the header is the same on every answer, and
    building it costs about 0.1 ms a response. Anything else goes through django-csp as before."""

    PER_RESPONSE = ("_csp_exempt", "_csp_config", "_csp_update", "_csp_replace")
    PER_RESPONSE_RO = ("_csp_exempt_ro", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")

    def process_request(self, request):
        if not is_vendor_api(request):  # no nonce: nothing under /api/v1/ renders a page
            super().process_request(request)

    def process_response(self, request, response):
        if (
            not is_vendor_api(request)
            or any(hasattr(response, name) for name in self.PER_RESPONSE + self.PER_RESPONSE_RO)
            or (settings.DEBUG and response.status_code in (404, 500))
            or _csp_excludes_a_prefix()
        ):
            return super().process_response(request, response)
        for header, policy in _fixed_csp_headers():
            if header not in response:
                response[header] = policy
        return response


@cache
def _fixed_csp_headers() -> tuple[tuple[str, str], ...]:
    """The policy headers of a response that changes nothing (no nonce, no decorator)."""
    from_settings = (
        (HEADER, build_policy()),
        (HEADER_REPORT_ONLY, build_policy(report_only=True)),
    )
    return tuple((header, policy) for header, policy in from_settings if policy)


@cache
def _csp_excludes_a_prefix() -> bool:
    return any(
        (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
    )


@receiver(setting_changed)
def _forget_fixed_csp(*, setting: str, **kwargs) -> None:
    """Tests change the policy with override_settings; built again on the next response."""
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        _fixed_csp_headers.cache_clear()
        _csp_excludes_a_prefix.cache_clear()


class RejectNulCharactersMiddleware:
    """A NUL character in the query string is never meaningful and PostgreSQL refuses it in
    text; answer 400 (in the API's format under /api/) before any view sees it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
        ):
            message = "The query must not contain NUL characters."
            if request.path.startswith("/api/"):
                return JsonResponse(error_body("parse_error", message), status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)


class RequestIdMiddleware:
    """``X-Request-ID``: the proxy's if it is a safe token, else a new one; on the response and on
    every log line of the request (and of the tasks it enqueues, see broker.core.request_id)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        value = request_id.accept(request.headers.get(request_id.HEADER))
        request.request_id = value
        token = request_id.bind(value)
        try:
            response = self.get_response(request)
        finally:
            request_id.unbind(token)
        response[request_id.HEADER] = value
        return response


class PermissionsPolicyMiddleware:
    """Sends ``settings.PERMISSIONS_POLICY`` as the Permissions-Policy header on every response.

    Four lines of our own rather than django-permissions-policy: the policy is one fixed string
    (every feature off), so a package and its per-feature settings would add nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class ApiLimitsMiddleware:
    """The vendor API's limits on what a request may carry, checked before any view, each answered
    in the API's error shape: a query string longer than ``API_MAX_QUERY_STRING`` characters is a
    414, a body longer than ``API_MAX_BODY_BYTES`` (by its Content-Length) a 413. Uploads
    (multipart) are measured by the upload view itself, against the photo limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        max_query = int(settings.API_MAX_QUERY_STRING)
        if len(request.META.get("QUERY_STRING", "")) > max_query:
            message = f"The query string is longer than {max_query} characters."
            return JsonResponse(error_body(URI_TOO_LONG, message), status=414)
        max_body = int(settings.API_MAX_BODY_BYTES)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_body and not request.content_type.startswith("multipart/"):
            message = f"The request body is larger than {max_body} bytes."
            return JsonResponse(error_body(TOO_LARGE, message), status=413)
        return self.get_response(request)


class CustomerPagesMiddleware:
    """A vendor's login never opens a customer's pages (the website's ``intents`` namespace), so
    one login cannot act on both sides of a deal; the pages anyone may see (the home page, a
    vendor's public profile) stay open. The vendor area refuses customers' logins itself
    (``broker.vendor_site.access``)."""

    OPEN_TO_ALL = frozenset({"home", "vendor_profile"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.app_name != "intents" or match.url_name in self.OPEN_TO_ALL:
            return None
        if not request.user.is_authenticated:
            return None
        # Kept for the page's navigation (``{% vendor_login %}``), which asks the same.
        request.vendor_login = is_vendor_account(request.user)
        if not request.vendor_login:
            return None
        membership = current_membership(request.user)
        return render(request, "website/vendor_login.html", {"membership": membership}, status=403)
