"""`make test` stops at once, and says what to start, when PostgreSQL or Redis is missing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("variable", "url", "expected"),
    [
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/intentcast", "PostgreSQL is not reachable"),
        ("CELERY_BROKER_URL", "redis://127.0.0.1:1/0", "Redis is not reachable"),
    ],
)
def test_suite_refuses_to_start_without_its_services(variable, url, expected):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", "tests/intents"],
        cwd=ROOT,
        env={**os.environ, variable: url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert expected in output and "Start it with" in output
