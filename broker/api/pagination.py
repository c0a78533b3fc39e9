"""Every list of the vendor API pages the same way: by an opaque ``cursor`` (follow ``next``),
``page_size`` items a page (a documented default and maximum). A ``page_size`` that is not a
whole number from 1 to the maximum, or a ``cursor`` this API did not give, is a 400 in the API's
error shape, naming the field."""

from __future__ import annotations

from base64 import b64decode
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination

from broker.api.errors import ApiError


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid", f"{field}: {message}", {field: [message]})


# What a cursor looks like (base64); which ones are valid only this API knows.
CURSOR_PATTERN = r"^[A-Za-z0-9+/]+={0,2}$"


class NewestFirstCursorPagination(CursorPagination):
    ordering: str | tuple[str, ...] = "-created_at"
    page_size: int = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = int(raw) if raw.isascii() and raw.isdigit() else 0
        if not 1 <= size <= self.max_page_size:
            raise _invalid(self.page_size_query_param, f"Give a whole number from 1 to {self.max_page_size}.")
        return size

    def decode_cursor(self, request: Any):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded == "":  # DRF reads it as the first page
            raise self._bad_cursor()
        try:
            if encoded is not None:
                b64decode(encoded.encode("ascii"), validate=True)  # DRF's own decoding skips stray characters
            return super().decode_cursor(request)
        except (ValueError, exceptions.NotFound):
            raise self._bad_cursor() from None

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list | None:
        if self.cursor_query_param not in request.query_params:
            return super().paginate_queryset(queryset, request, view)
        try:  # a cursor that decodes, but to a position that is not one of this list's
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DjangoValidationError):
            raise self._bad_cursor() from None

    def _bad_cursor(self) -> ApiError:
        return _invalid(self.cursor_query_param, "Not a cursor of this list: follow the next or previous link.")

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Items a page: {self.page_size} unless given, at most {self.max_page_size}; "
                    "anything else is a 400."
                )
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = "The opaque cursor of a `next` or `previous` link; a made-up one is a 400."
                parameter["schema"] = {"type": "string", "pattern": CURSOR_PATTERN}
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        # DRF's example of `next` ends in a stray quote, which is not a URI.
        next_link = response["properties"]["next"]
        next_link["example"] = next_link["example"].rstrip('"')
        return response


class IdCursorPagination(NewestFirstCursorPagination):
    """Newest first by a monotonic id (no ties, so nothing is skipped between pages)."""

    ordering = "-id"


class OldestFirstCursorPagination(NewestFirstCursorPagination):
    """For the event log: in the order the events happened."""

    ordering: str | tuple[str, ...] = "id"
