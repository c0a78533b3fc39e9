"""What every operation of the vendor API may also answer, added to the OpenAPI schema once
(a drf-spectacular postprocessing hook): invalid input (400), authentication and approval (401,
403), unknown objects (404), the rate limit (429, ``Retry-After``), the size limits (413, 414),
all in the one error shape (``ApiErrorOutput``), and on POSTs the ``Idempotency-Key`` header and its answers (409, 422,
``Idempotent-Replayed``)."""

from __future__ import annotations

from typing import Any

from broker.api.idempotency import HEADER, IDEMPOTENCY_KEY_PARAMETER, REPLAYED

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiErrorOutput"}}}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": _ERROR}
    if headers:
        answer["headers"] = headers
    return answer


def document_limits(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    retry_after = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
    replayed = {
        REPLAYED: {
            "schema": {"type": "string", "enum": ["true"]},
            "description": "Present when this is the stored response to an earlier request with the same key.",
        }
    }
    key_parameter = {
        "in": "header",
        "name": HEADER,
        "schema": {"type": "string", "maxLength": 255},
        "description": IDEMPOTENCY_KEY_PARAMETER.description,
    }
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if operation.get("requestBody") or any(p.get("in") == "query" for p in operation.get("parameters", [])):
                responses.setdefault("400", _error("Invalid input: `error.fields` names each bad field."))
            if operation.get("security") != [{}] and {"VendorApiKey": []} in operation.get("security", []):
                responses.setdefault("401", _error("Missing, unknown or revoked API key."))
                responses.setdefault("403", _error("Your vendor account is not approved (pending or suspended)."))
            if "{" in path:
                responses.setdefault("404", _error("No such object among yours (or not delivered to you)."))
            responses.setdefault("429", _error("Too many requests: wait `Retry-After` seconds.", retry_after))
            responses.setdefault("414", _error("The query string is longer than the limit."))
            if method in ("post", "patch", "put"):
                responses.setdefault("413", _error("The body is larger than the limit."))
            if method != "post":
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == HEADER for p in parameters):
                parameters.append(key_parameter)
            responses.setdefault("409", _error("A request with this Idempotency-Key is still running."))
            responses.setdefault("422", _error("This Idempotency-Key was used with another request."))
            for status, answer in responses.items():
                if status.startswith("2") and isinstance(answer, dict):
                    answer.setdefault("headers", {}).update(replayed)
    return result
