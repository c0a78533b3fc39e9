"""Browser policies under production settings, the API docs without the internet, and the
request id on responses, log lines and the tasks a request enqueues."""

import importlib
import logging
import re
import sys
import threading

import pytest
from celery import shared_task
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import override_settings
from django.urls import reverse

from broker.core import request_id
from broker.middleware import RequestIdMiddleware

pytestmark = pytest.mark.django_db

# What production changes that matters to the response headers; the database, storage, cache and
# Celery stay the test's own.
KEEP = {"DATABASES", "STORAGES", "CACHES", "SECRET_KEY", "INSTALLED_APPS", "TEMPLATES", "LOGGING", "MEDIA_ROOT"}


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "intentcast.example")
    sys.modules.pop("broker.settings.production", None)
    module = importlib.import_module("broker.settings.production")
    sys.modules.pop("broker.settings.production", None)
    changed = {
        name: getattr(module, name)
        for name in dir(module)
        if name.isupper()
        and not name.startswith(("CELERY_", "EMAIL_"))
        and name not in KEEP
        and getattr(module, name) != getattr(django_settings, name, object())
    }
    assert not changed.get("DEBUG")
    with override_settings(**changed):
        yield


@pytest.mark.parametrize("path", ["/", "/api/v1/intents/"])
def test_policies_on_a_page_and_an_api_response_under_production(client, production, path):
    response = client.get(path, HTTP_HOST="intentcast.example", secure=True)
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


def test_website_templates_have_nothing_inline():
    templates = django_settings.BASE_DIR / "broker" / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<style|\sstyle=|<script(?![^>]*\ssrc=)|\son[a-z]+=", text), template


@pytest.mark.parametrize("name", ["api-docs", "api-redoc"])
def test_api_docs_load_nothing_from_elsewhere(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = response.content.decode()
    urls = re.findall(r'(?:src|href|spec-url)="([^"]*)"', page)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert any("drf_spectacular_sidecar" in url for url in urls)
    assert "<style" not in page and not re.search(r"<script(?![^>]*\ssrc=)", page)


def test_swagger_script_is_served_by_us(client):
    response = client.get(reverse("api-docs"), {"script": ""})
    assert response.status_code == 200 and b"SwaggerUIBundle" in response.content


def test_request_id_is_generated(client):
    response = client.get("/")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert client.get("/")["X-Request-ID"] != response["X-Request-ID"]


def test_a_safe_request_id_from_the_proxy_is_kept_and_an_unsafe_one_replaced(client):
    assert client.get("/", HTTP_X_REQUEST_ID="proxy-id-1234.5_6")["X-Request-ID"] == "proxy-id-1234.5_6"
    replaced = client.get("/", HTTP_X_REQUEST_ID="bad id\r\nwith spaces")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


@shared_task
def log_something() -> None:
    logging.getLogger("tests.security").warning("inside the task")


def test_log_lines_of_a_request_and_of_its_tasks_carry_its_id(rf, caplog):
    def view(request):
        logging.getLogger("tests.security").warning("inside the view")
        log_something.delay()
        return HttpResponse("ok")

    caplog.handler.addFilter(request_id.RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="tests.security"):
        response = RequestIdMiddleware(view)(rf.get("/", HTTP_X_REQUEST_ID="trace-abcdef12"))
    assert response["X-Request-ID"] == "trace-abcdef12"
    ids = {record.getMessage(): record.request_id for record in caplog.records}
    assert ids == {"inside the view": "trace-abcdef12", "inside the task": "trace-abcdef12"}
    assert request_id.current.get() == "-"


def test_a_worker_runs_the_task_under_the_id_it_was_published_with(caplog):
    headers: dict = {}
    token = request_id.bind("trace-from-web1")
    try:
        request_id.on_before_task_publish(headers=headers)
    finally:
        request_id.unbind(token)
    assert headers == {"request_id": "trace-from-web1"}

    caplog.handler.addFilter(request_id.RequestIdFilter())

    def worker():  # another thread: no id of its own, like a worker process
        log_something.apply(headers=headers)
        logging.getLogger("tests.security").warning("after the task")

    with caplog.at_level(logging.WARNING, logger="tests.security"):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    ids = {record.getMessage(): record.request_id for record in caplog.records}
    assert ids == {"inside the task": "trace-from-web1", "after the task": "-"}
