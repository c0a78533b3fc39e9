"""Rate limits of the vendor API, counted in the default cache (Redis in production, so every web
process shares one count).

A caller with a valid key is counted per key's vendor, reads and writes apart (``read`` for GET,
HEAD, OPTIONS; ``write`` for the rest); a caller without a key, or with a wrong one, per client
address (``anon``). The rates are ``settings.API_THROTTLE_RATES``, read on each request. Over the
limit: 429 in the API's error shape, with ``Retry-After``.

The count is a fixed window that opens with the caller's first request: one counter per caller
and scope, incremented by every request and expiring ``duration`` seconds after the first. In
Redis that is one atomic script (INCR, EXPIRE on the first, PTTL), one round trip per request,
where DRF's SimpleRateThrottle reads and rewrites the list of every request time in the window
(two round trips, and a list of 600 timestamps unpickled and pickled each time). A caller may
therefore make at most twice the limit across the boundary of two windows, never more than the
limit within one; ``Retry-After`` is the seconds left until its window closes.
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

# KEYS[1] the counter, ARGV[1] the window in seconds. Returns {count, milliseconds left}.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) left = tonumber(ARGV[1]) * 1000 end
return {count, left}
"""


def count_request(key: str, duration: int) -> tuple[int, float]:
    """Count one request against ``key``'s window of ``duration`` seconds: the requests counted
    in the window so far, this one included, and the seconds until it closes."""
    backend = caches["default"]  # this thread's
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        script = getattr(backend, "_api_throttle_script", None)
        if script is None:  # one client and script per cache (Django builds a client per call)
            script = backend._cache.get_client(full_key, write=True).register_script(_COUNT_SCRIPT)
            backend._api_throttle_script = script  # type: ignore[attr-defined]
        count, left_ms = script(keys=[full_key], args=[duration])
        return int(count), int(left_ms) / 1000
    # This process's memory (development, tests): a (count, closes at) pair.
    now = time.time()
    count, closes_at = cache.get(key) or (0, now + duration)
    if closes_at <= now:
        count, closes_at = 0, now + duration
    cache.set(key, (count + 1, closes_at), math.ceil(closes_at - now))
    return count + 1, closes_at - now


class ApiRateThrottle(SimpleRateThrottle):
    cache_format = "api-throttle:%(scope)s:%(ident)s"

    def __init__(self) -> None:  # the rate depends on the request: chosen in allow_request
        self.ident = ""
        self.left = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.auth is not None:
            self.scope = "read" if request.method in SAFE_METHODS else "write"
            self.ident = f"vendor:{request.user.pk}"
        else:
            self.scope = "anon"
            self.ident = self.get_ident(request)
        self.rate = settings.API_THROTTLE_RATES[self.scope]
        num_requests, duration = self.parse_rate(self.rate)
        assert num_requests is not None and duration is not None  # every scope has a rate
        self.num_requests, self.duration = num_requests, duration
        count, self.left = count_request(self.get_cache_key(request, view), duration)
        return count <= num_requests

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}

    def wait(self) -> float:
        return max(1.0, math.ceil(self.left))


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
