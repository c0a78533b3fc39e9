"""Forwarded headers are believed only from proxies the operator names: a client cannot claim
https, or another address, by sending X-Forwarded-* itself."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_setting(name: str, **environment: str) -> object:
    """A production setting as the process would see it with ``environment``."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps(getattr(settings, {name!r}, None)))"
    )
    env = {key: value for key, value in os.environ.items() if key != "TRUSTED_PROXY_COUNT"}
    env.update(
        DJANGO_SETTINGS_MODULE="broker.settings.production",
        DJANGO_SECRET_KEY="test-only-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="intentcast.example",
        **environment,
    )
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_without_a_trusted_proxy_a_client_cannot_claim_https():
    assert production_setting("SECURE_PROXY_SSL_HEADER") is None
    assert production_setting("SECURE_PROXY_SSL_HEADER", TRUSTED_PROXY_COUNT="1") == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_gunicorn_believes_forwarded_headers_from_nobody_by_default(monkeypatch):
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert config["forwarded_allow_ips"] == ""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.2")
    assert runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["forwarded_allow_ips"] == "10.0.0.2"
