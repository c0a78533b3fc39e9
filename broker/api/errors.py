"""The one error shape of the API, applied once, here:

    {"error": {"code": "invalid", "message": "…", "fields": {"amount": ["…"]}}}

``fields`` appears only when particular fields are at fault.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from broker.core import idempotency
from broker.core.errors import DomainError
from moderation import services as moderation_services
from reputation import services as reputation_services

# The API's own codes, for what no exception class names.
TOO_LARGE = "too_large"
URI_TOO_LONG = "uri_too_long"
SERVER_ERROR = "server_error"
_OWN_CODES = {
    TOO_LARGE: "The body, or an uploaded photo, is larger than the limit.",
    URI_TOO_LONG: "The query string is longer than the limit.",
    SERVER_ERROR: "Something went wrong on our side.",
}
# DRF's exceptions the API answers with (their default_code and default_detail).
_DRF_ERRORS = (
    exceptions.ValidationError,
    exceptions.ParseError,
    exceptions.NotAuthenticated,
    exceptions.AuthenticationFailed,
    exceptions.PermissionDenied,
    exceptions.NotFound,
    exceptions.MethodNotAllowed,
    exceptions.NotAcceptable,
    exceptions.UnsupportedMediaType,
    exceptions.Throttled,
)


def _subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_subclasses(direct))]


def error_codes() -> list[tuple[str, str]]:
    """Every ``error.code`` the API can answer, with what it means: from DRF's exceptions, the
    domain errors (``DomainError`` and its subclasses: their docstrings), and the API's own."""
    assert idempotency and reputation_services and moderation_services  # imported for their DomainError subclasses
    codes: dict[str, str] = {}
    for drf in _DRF_ERRORS:
        codes.setdefault(str(drf.default_code), re.sub(r' "\{\w+\}"', "", str(drf.default_detail)))
    domains: list[type[DomainError]] = [DomainError, *_subclasses(DomainError)]
    for domain in domains:
        doc = (domain.__doc__ or "").strip().splitlines()
        codes.setdefault(domain.code, doc[0] if doc else domain.__name__)
    for code, meaning in _OWN_CODES.items():
        codes.setdefault(code, meaning)
    return sorted(codes.items())


def _as_lists(detail):
    if isinstance(detail, dict):
        return {key: _as_lists(value) for key, value in detail.items()}
    if isinstance(detail, list | tuple):
        if all(isinstance(item, str) for item in detail):
            return [str(item) for item in detail]
        return [_as_lists(item) for item in detail]
    return [str(detail)]


def _nest(fields: dict) -> dict:
    """``{"attributes.mileage": [...]}`` becomes ``{"attributes": {"mileage": [...]}}``."""
    nested: dict = {}
    for key, messages in fields.items():
        head, _, rest = key.partition(".")
        if rest and not isinstance(nested.get(head), list):
            nested.setdefault(head, {})[rest] = messages
        else:
            nested[key] = messages
    return nested


def first_problem(fields: Any, path: str = "") -> str:
    """The first message in ``fields``, named by its field: ``"amount: Enter an amount of zero or
    more."`` (``non_field_errors`` and list positions are not named)."""
    if isinstance(fields, dict):
        for key, value in fields.items():
            named = path if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
            found = first_problem(value, named)
            if found:
                return found
        return ""
    if isinstance(fields, list | tuple):
        for item in fields:
            found = first_problem(item, path)
            if found:
                return found
        return ""
    return f"{path}: {fields}" if path else str(fields)


def invalid_message(fields: Any) -> str:
    return first_problem(fields) or "Some fields are not valid."


class ApiError(exceptions.APIException):
    """An error of the API's own, raised where a view cannot return one (before the handler runs),
    with its status, code and, optionally, the fields at fault."""

    def __init__(self, status_code: int, code: str, message: str, fields: dict[str, Any] | None = None):
        super().__init__(message, code)
        self.status_code = status_code
        self.code = code
        self.fields = fields


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        fields = {exc.field: [exc.message]} if exc.field else None
        return Response(error_body(exc.code, exc.message, fields), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            fields = _nest({key: _as_lists(value) for key, value in exc.message_dict.items()})
            return Response(error_body("invalid", invalid_message(fields), fields), status=400)
        return Response(error_body("invalid", " ".join(exc.messages)), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = _as_lists(detail)
        response.data = error_body("invalid", invalid_message(fields), fields)
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, ApiError):
        response.data = error_body(exc.code, str(exc.detail), exc.fields)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        response.data = error_body(code, str(exc.detail))
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """Django's 404 for paths no view matched: JSON in the API's format under /api/."""
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(error_body(SERVER_ERROR, _OWN_CODES[SERVER_ERROR]), status=500)
    return django_server_error(request)
