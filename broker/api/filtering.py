"""The API's filter backend: django-filter's, which builds no FilterSet (a form, its fields and
their validation) for a request that gives none of the view's filter parameters: the answer is
the unfiltered list either way, and the inbox is read far more often than it is filtered."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend


class ApiFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
