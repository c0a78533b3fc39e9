"""What every operation of the vendor API may also answer, added to the OpenAPI schema once
(a drf-spectacular postprocessing hook): invalid input (400), authentication and approval (401,
403), unknown objects (404), the rate limit (429, ``Retry-After``), the size limits (413, 414),
all in the one error shape (``ApiErrorOutput``), and on POSTs the ``Idempotency-Key`` header and its answers (409, 422,
``Idempotent-Replayed``)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from broker.api.idempotency import HEADER, IDEMPOTENCY_KEY_PARAMETER, REPLAYED
from broker.core.idempotency import KEY_PATTERN, MAX_KEY_LENGTH
from broker.core.keywords import WORD

# What the API reads as a time: ISO 8601 with an offset (DRF reads more; this is what to send).
DATE_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"
# "Not blank", as the server means it: some character Python's str.strip() keeps. JSON Schema's
# \S is ECMAScript's, which counts U+001C-U+001F and U+0085 as characters and U+FEFF as space,
# where DRF trims the first and keeps the last: a request of "\x1c" alone was schema-valid and
# refused as blank (found by tests/vendors/test_api_fuzz.py). Python's re reads it the same way.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]|\ufeff"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
MESSAGE_ID_PATTERN = r"^[0-9]{1,18}$"
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
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
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
            responses.setdefault("400", _error(f"An invalid `{HEADER}`."))
            responses.setdefault("409", _error("A request with this Idempotency-Key is still running."))
            responses.setdefault("422", _error("This Idempotency-Key was used with another request."))
            for status, answer in responses.items():
                if status.startswith("2") and isinstance(answer, dict):
                    answer.setdefault("headers", {}).update(replayed)
    return result


_ACTIONS = {
    "partial_update": "Change",
    "list": "List",
    "create": "Create",
    "retrieve": "Get",
    "update": "Replace",
    "destroy": "Delete",
}


def _summary_from_id(operation_id: str) -> str:
    words = operation_id.removeprefix("v1_")
    for action, verb in _ACTIONS.items():
        if words.endswith(f"_{action}"):
            return f"{verb} {words.removesuffix(f'_{action}').replace('_', ' ')}"
    return words.replace("_", " ").capitalize()


def _first_sentence(text: str) -> str:
    line = " ".join(text.strip().split("\n\n")[0].split()).replace("``", "`")
    sentence = line.split(". ")[0].rstrip(".")
    return re.split(r"[:;(]|, ", sentence)[0].strip() if len(sentence) > 60 else sentence


def _null_types(node: Any) -> None:
    """OpenAPI 3.1 has no ``nullable``: what is still marked so becomes ``type: [..., "null"]``."""
    if isinstance(node, dict):
        if node.pop("nullable", False) is True:
            if isinstance(node.get("type"), str):
                node["type"] = [node["type"], "null"]
            elif "$ref" in node or "allOf" in node:
                ref = {key: node.pop(key) for key in ("$ref", "allOf") if key in node}
                node["oneOf"] = [ref, {"type": "null"}]
        for value in node.values():
            _null_types(value)
    elif isinstance(node, list):
        for item in node:
            _null_types(item)


def tell_the_truth(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """What the serializers cannot say: a summary for every operation (its own description's first
    sentence, else from its operationId), null where 3.1 wants it, and the rules the services
    enforce: a query parameter is not blank, a time sent has the form of one, and a subscription
    has at least one category and one region, keywords with a word in them, and a currency with
    its minimum budget (``vendors.services.clean_subscription``)."""
    operations = [
        operation
        for operations in result.get("paths", {}).values()
        for operation in operations.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    shared = Counter(operation.get("description", "") for operation in operations)
    for operation in operations:
        description = operation.get("description", "")
        if "summary" not in operation:
            own = description and shared[description] == 1
            operation["summary"] = _first_sentence(description) if own else _summary_from_id(operation["operationId"])
    for operation in operations:
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter.get("in") == "query" and schema.get("type") == "string":
                schema.setdefault("minLength", 1)  # a filter given blank is a 400 (views.ApiFilterSet)
    schemas = result.get("components", {}).get("schemas", {})
    for name in ("SubscriptionRequest", "PatchedSubscriptionRequest", "Subscription"):
        for field in ("categories", "regions"):
            prop = schemas.get(name, {}).get("properties", {}).get(field)
            if prop and prop.get("type") == "array":
                prop["minItems"] = 1
    for name, component in schemas.items():
        if not name.endswith("Request"):
            continue
        for prop in component.get("properties", {}).values():
            if prop.get("format") == "date-time":
                prop.setdefault("pattern", DATE_TIME_PATTERN)
            elif prop.get("type") == "string" and prop.get("minLength", 0) >= 1 and not {"enum", "format"} & set(prop):
                prop.setdefault("pattern", NOT_BLANK)  # DRF trims whitespace, then refuses a blank
    for name in ("SubscriptionRequest", "PatchedSubscriptionRequest", "Subscription"):
        keywords = schemas.get(name, {}).get("properties", {}).get("keywords", {}).get("items")
        if keywords:
            keywords["pattern"] = WORD.pattern  # a keyword without a word in it is refused
    if "SubscriptionRequest" in schemas:
        schemas["SubscriptionRequest"]["if"] = {
            "properties": {"min_budget": {"type": "string"}},
            "required": ["min_budget"],
        }
        schemas["SubscriptionRequest"]["then"] = {
            "properties": {"min_budget_currency": {"$ref": "#/components/schemas/CurrencyEnum"}},
            "required": ["min_budget_currency"],
        }
    if "ReportInputRequest" in schemas:
        # What the report's id is depends on its subject, and "other" needs words
        # (``moderation.services.file_vendor_report``).
        schemas["ReportInputRequest"]["allOf"] = [
            {
                "if": {"properties": {"subject": {"const": "request"}}, "required": ["subject"]},
                "then": {"properties": {"id": {"format": "uuid", "pattern": UUID_PATTERN}}},
            },
            {
                "if": {"properties": {"subject": {"const": "message"}}, "required": ["subject"]},
                "then": {"properties": {"id": {"pattern": MESSAGE_ID_PATTERN}}},
            },
            {
                "if": {"properties": {"reason": {"const": "other"}}, "required": ["reason"]},
                "then": {"properties": {"text": {"pattern": NOT_BLANK}}, "required": ["text"]},
            },
        ]
    _null_types(result)
    return result
