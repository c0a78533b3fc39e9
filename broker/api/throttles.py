"""Rate limits of the vendor API, counted in the default cache (Redis in production, so every web
process shares one count).

A caller with a valid key is counted per key's vendor, reads and writes apart (``read`` for GET,
HEAD, OPTIONS; ``write`` for the rest); a caller without a key, or with a wrong one, per client
address (``anon``). The rates are ``settings.API_THROTTLE_RATES``, read on each request. Over the
limit: 429 in the API's error shape, with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class ApiRateThrottle(SimpleRateThrottle):
    cache_format = "api-throttle:%(scope)s:%(ident)s"

    def __init__(self) -> None:  # the rate depends on the request: chosen in allow_request
        self.ident = ""

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.auth is not None:
            self.scope = "read" if request.method in SAFE_METHODS else "write"
            self.ident = f"vendor:{request.user.pk}"
        else:
            self.scope = "anon"
            self.ident = self.get_ident(request)
        self.rate = settings.API_THROTTLE_RATES[self.scope]
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


class ThrottleFirstMixin:
    """DRF checks the rate limits after authentication and permissions, so a caller refused by
    either is never counted. Here they are checked first: a flood of wrong keys, or of calls
    without one, is limited per address like any other."""

    def perform_authentication(self, request: Request) -> None:
        try:
            request.user  # noqa: B018 (authenticates)
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)  # as the anonymous caller it now is
            raise

    def check_permissions(self, request: Request) -> None:
        self.check_throttles(request)
        super().check_permissions(request)  # type: ignore[misc]

    def check_throttles(self, request: Request) -> None:
        if getattr(request, "_intentcast_throttled", False):  # once per request
            return
        request._intentcast_throttled = True  # type: ignore[attr-defined]
        super().check_throttles(request)  # type: ignore[misc]
