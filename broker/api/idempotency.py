"""``Idempotency-Key`` on every POST of the vendor API (broker.core.idempotency does the work).

A POST with the header claims the key for the calling vendor before its view runs. The same key
with the same request (method, path and body) again gets the first response back, with
``Idempotent-Replayed: true``; with another request, a 422; while the first still runs, a 409. A
key is 1 to 255 printable ASCII characters (else 400) and is kept ``IDEMPOTENCY_TTL`` (24 hours). Responses of
2xx and 4xx are kept; after a 5xx or a 429 the key is let go, so a retry runs again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils import json
from rest_framework.utils.encoders import JSONEncoder

from broker.core.idempotency import Stored, claim, release, store

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="1 to 255 printable ASCII characters (no space at either end), unique per request, kept 24 "
    "hours. The same request again with "
    "the same key gets the first response (with `Idempotent-Replayed: true`) instead of running twice; "
    "another request with the key is a 422; while the first is still running, a 409.",
)


class _Replay(Exception):
    def __init__(self, stored: Stored) -> None:
        self.stored = stored


def _json_ready(data: Any) -> Any:
    return None if data is None else json.loads(json.dumps(data, cls=JSONEncoder))


def fingerprint(request: Request) -> str:
    """The request, as far as a repeat must equal it: method, path and the parsed body (JSON by
    its content, key order aside; a form's fields and the bytes of its files)."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    data = request.data
    if hasattr(data, "lists"):  # a form (multipart): fields and files
        for name, values in sorted(data.lists()):
            for value in values:
                digest.update(f"\n{name}=".encode())
                if hasattr(value, "chunks"):
                    for chunk in value.chunks():
                        digest.update(chunk)
                    value.seek(0)
                else:
                    digest.update(str(value).encode())
    else:
        digest.update(json.dumps(data, cls=JSONEncoder, sort_keys=True).encode())
    return digest.hexdigest()


def scope(request: Request) -> str:
    return f"vendor:{request.user.pk}"


class IdempotentPostMixin:
    """For an APIView: POSTs honour ``Idempotency-Key`` (after authentication, permissions and
    rate limits, before the handler)."""

    _idempotency_record: int | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return
        outcome = claim(scope=scope(request), key=key, fingerprint=fingerprint(request))
        if isinstance(outcome, Stored):
            raise _Replay(outcome)
        self._idempotency_record = outcome

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            return Response(exc.stored.body, status=exc.stored.status_code, headers={REPLAYED: "true"})
        return super().handle_exception(exc)  # type: ignore[misc]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self._idempotency_record = None
        try:
            response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        except BaseException:
            if self._idempotency_record is not None:
                release(record_id=self._idempotency_record)
            raise
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            if response.status_code >= 500 or response.status_code == 429:
                release(record_id=record)
            else:
                store(record_id=record, status_code=response.status_code, body=_json_ready(response.data))
        return response
