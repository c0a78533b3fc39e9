from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render

from broker.api.errors import TOO_LARGE, URI_TOO_LONG, error_body
from broker.core import request_id
from vendors.team import current_membership, is_vendor_account


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
        if (
            match is None
            or match.app_name != "intents"
            or match.url_name in self.OPEN_TO_ALL
            or not request.user.is_authenticated
            or not is_vendor_account(request.user)
        ):
            return None
        membership = current_membership(request.user)
        return render(request, "website/vendor_login.html", {"membership": membership}, status=403)
