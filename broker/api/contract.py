"""The API contract: what a new schema may not take away from a released one.

A small comparison of operation and field sets (no oasdiff): an operation (path + method) is
gone, a property of a component schema is gone, a request gained a required field or parameter,
or an enum lost a value. Pure functions on parsed OpenAPI documents; tests/vendors/
test_api_contract.py runs them against the newest snapshot in docs/openapi/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

Schema = dict[str, Any]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SNAPSHOT_NAME = re.compile(r"^v(\d+)\.(\d+)\.(\d+)\.json$")


def newest_snapshot(directory: Path) -> Path:
    """The released schema with the highest version, named vX.Y.Z.json."""
    versioned: list[tuple[tuple[int, ...], Path]] = []
    for path in directory.iterdir():
        match = _SNAPSHOT_NAME.match(path.name)
        if match:
            versioned.append((tuple(int(part) for part in match.groups()), path))
    if not versioned:
        raise FileNotFoundError(f"no vX.Y.Z.json snapshot in {directory}")
    return max(versioned)[1]


def load(path: Path) -> Schema:
    schema: Schema = json.loads(path.read_text(encoding="utf-8"))
    return schema


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _operations(schema: Schema) -> dict[tuple[str, str], Schema]:
    return {
        (path, method): operation
        for path, item in schema.get("paths", {}).items()
        for method, operation in item.items()
        if method in METHODS
    }


def _components(schema: Schema) -> dict[str, Schema]:
    components: dict[str, Schema] = schema.get("components", {}).get("schemas", {})
    return components


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _refs(node: Any) -> set[str]:
    """The component names a node refers to, directly."""
    if isinstance(node, dict):
        found = {_ref_name(node["$ref"])} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    return set()


def _request_schemas(schema: Schema) -> set[str]:
    """The component schemas a request body uses, followed through nested references."""
    components = _components(schema)
    pending = set().union(*(_refs(op.get("requestBody", {})) for op in _operations(schema).values()))
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen or name not in components:
            continue
        seen.add(name)
        pending |= _refs(components[name]) - seen
    return seen


def _enums(node: Any, pointer: str, found: dict[str, list[Any]]) -> dict[str, list[Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            found[pointer] = node["enum"]
        for key, value in node.items():
            _enums(value, f"{pointer}/{key}", found)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _enums(item, f"{pointer}/{index}", found)
    return found


def _required_parameters(operation: Schema) -> set[tuple[str, str]]:
    return {
        (parameter["in"], parameter["name"])
        for parameter in operation.get("parameters", [])
        if "in" in parameter and parameter.get("required")
    }


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What a client of `old` would find broken in `new`, one line each; empty when compatible."""
    problems: list[str] = []
    old_ops, new_ops = _operations(old), _operations(new)
    for path, method in sorted(old_ops.keys() - new_ops.keys()):
        problems.append(f"operation gone: {method.upper()} {path}")
    for key in sorted(old_ops.keys() & new_ops.keys()):
        for where, name in sorted(_required_parameters(new_ops[key]) - _required_parameters(old_ops[key])):
            problems.append(f"required {where} parameter added: {name} on {key[1].upper()} {key[0]}")

    old_components, new_components = _components(old), _components(new)
    for name, old_component in sorted(old_components.items()):
        new_properties = new_components.get(name, {}).get("properties", {})
        for field in sorted(old_component.get("properties", {}).keys() - new_properties.keys()):
            problems.append(f"field gone: {name}.{field}")

    for name in sorted(_request_schemas(new) & old_components.keys()):
        added = set(new_components[name].get("required", [])) - set(old_components[name].get("required", []))
        for field in sorted(added):
            problems.append(f"required request field added: {name}.{field}")

    old_enums = _enums(old_components, "#/components/schemas", {})
    new_enums = _enums(new_components, "#/components/schemas", {})
    for pointer in sorted(old_enums.keys() & new_enums.keys()):
        for value in old_enums[pointer]:
            if value not in new_enums[pointer]:
                problems.append(f"enum value gone: {value!r} from {pointer}")
    return problems


def differences(old: Any, new: Any, pointer: str = "#") -> list[str]:
    """The JSON pointers where two documents differ (the deepest differing node of each)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            found
            for key in sorted(old.keys() | new.keys())
            if old.get(key) != new.get(key) or (key in old) != (key in new)
            for found in differences(old.get(key), new.get(key), f"{pointer}/{key}")
        ]
    return [] if old == new else [pointer]
