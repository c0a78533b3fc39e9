"""The vendor API's contract: the schema generated now against the newest released snapshot.

Releasing a version: set SPECTACULAR_SETTINGS["VERSION"] (broker/settings/base.py) to the new
version, describe it in docs/api-changelog.md, and add its snapshot beside the old ones:

    DATABASE_URL=sqlite:////tmp/s13c.sqlite3 .venv/bin/python manage.py spectacular \\
      --format openapi-json --file docs/openapi/vX.Y.Z.json

Any change to the schema fails `test_a_change_bumps_the_version` until then; a change that
breaks clients (see broker.api.contract) fails `test_nothing_released_is_broken` whatever the
version (a breaking change is a new API, under a new path).
"""

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from broker.api.contract import breaking_changes, differences, load, newest_snapshot, version_tuple

SNAPSHOTS = Path(__file__).resolve().parents[2] / "docs" / "openapi"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def released() -> dict[str, Any]:
    return load(newest_snapshot(SNAPSHOTS))


@pytest.fixture
def current(tmp_path: Path) -> dict[str, Any]:
    target = tmp_path / "openapi.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(target))
    return load(target)


def test_nothing_released_is_broken(released, current):
    assert breaking_changes(released, current) == []


def test_a_change_bumps_the_version(released, current):
    released_version, version = released["info"]["version"], current["info"]["version"]
    assert version_tuple(version) >= version_tuple(released_version)
    if version == released_version:
        assert differences(released, current) == [], (
            f"the schema changed under the released version {version}: bump "
            'SPECTACULAR_SETTINGS["VERSION"] and add its snapshot (see the top of this file)'
        )


def test_the_comparison_catches_breaking_changes(released):
    def changed(edit) -> list[str]:
        schema = load(newest_snapshot(SNAPSHOTS))
        edit(schema)
        return breaking_changes(released, schema)

    path = next(iter(released["paths"]))
    method = next(m for m in released["paths"][path] if m in ("get", "post"))
    assert changed(lambda s: s["paths"][path].pop(method)) == [f"operation gone: {method.upper()} {path}"]

    assert changed(lambda s: s["components"]["schemas"]["BidOutput"]["properties"].pop("status")) == [
        "field gone: BidOutput.status"
    ]
    assert changed(lambda s: s["components"]["schemas"]["BidStatusEnum"]["enum"].pop()) != []

    request = next(
        name
        for name, component in released["components"]["schemas"].items()
        if name.endswith("Request") and set(component.get("properties", {})) - set(component.get("required", []))
    )
    optional = sorted(
        set(released["components"]["schemas"][request]["properties"])
        - set(released["components"]["schemas"][request].get("required", []))
    )[0]
    assert changed(lambda s: s["components"]["schemas"][request].setdefault("required", []).append(optional)) == [
        f"required request field added: {request}.{optional}"
    ]
    assert changed(lambda s: None) == []
