import os
import socket
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from intents.models import Region
from intents.services import publish_intent
from intents.taxonomy_cache import forget_taxonomy
from tests.factories import CategoryFactory, UserFactory, VendorFactory, region
from vendors.services import forget_remembered_keys, issue_api_key, save_subscription

CAR_SCHEMA = [
    {"name": "make", "label": "Make", "type": "enum", "choices": ["Toyota", "Ford", "Honda", "Volkswagen"]},
    {
        "name": "model",
        "label": "Model",
        "type": "enum",
        "depends_on": "make",
        "choices_by": {
            "Toyota": ["Yaris", "Aygo", "Corolla"],
            "Ford": ["Fiesta", "Focus"],
            "Honda": ["Jazz", "Civic"],
            "Volkswagen": ["Polo", "Golf"],
        },
    },
    {
        "name": "trim",
        "label": "Trim",
        "type": "enum",
        "choices": ["T2", "T3", "TR", "T Spirit"],
        "multiple": True,
        "depends_on": "model",
        "choices_by": {"Yaris": ["T2", "T3", "TR", "T Spirit"], "Fiesta": ["Zetec", "Titanium"]},
    },
    {"name": "year", "label": "Year", "type": "range", "min": 1950, "max": "next_year"},
    {"name": "mileage", "label": "Mileage", "type": "number", "unit": "distance", "min": 0, "compare": "at_most"},
    {"name": "fuel", "label": "Fuel", "type": "enum", "choices": ["petrol", "diesel", "hybrid", "electric"]},
    {"name": "engine_size", "label": "Engine size", "type": "number", "unit": "l", "min": 0.6, "max": 8.0},
    {"name": "doors", "label": "Doors", "type": "number", "min": 2, "max": 7},
    {"name": "colour", "label": "Colour", "type": "text"},
    {"name": "aircon", "label": "Air conditioning", "type": "boolean"},
]


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def pytest_configure(config):
    """Stop at once, and say how to fix it, when PostgreSQL or Redis is not there."""
    database = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/intentcast")
    missing = []
    if database.startswith("postgres") and not _reachable(database, 5432):
        missing.append(
            f"PostgreSQL is not reachable at {database}. Start it with "
            "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' "
            "or set DATABASE_URL."
        )
    broker_url = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
    if not _reachable(broker_url, 6379):
        missing.append(
            f"Redis is not reachable at {broker_url}. Start it with 'redis-server --daemonize yes' "
            "or set CELERY_BROKER_URL."
        )
    if missing:
        raise pytest.UsageError("\n".join(missing))


@pytest.fixture(autouse=True)
def _fresh_taxonomy_memory():
    """Each test's taxonomy is rolled back at its end, unseen by the process's memory of it, and
    on SQLite the next test may reuse the same ids."""
    forget_taxonomy()
    yield
    forget_taxonomy()


@pytest.fixture(autouse=True)
def _fresh_key_memory():
    """Each test's keys and vendors are rolled back at its end, unseen by the process's memory of
    keys (vendors.services.authenticate_key)."""
    forget_remembered_keys()
    yield
    forget_remembered_keys()


@pytest.fixture
def customer(db):
    return UserFactory(username="alice", email="alice@example.com")


@pytest.fixture
def regions(db) -> dict[str, Region]:
    """GB > GB-ENG > {GB-LND, GB-MAN}, GB > GB-SCT, and FR."""
    gb = region("GB", name="United Kingdom")
    eng = region("GB-ENG", gb, "England")
    tree = {
        "GB": gb,
        "GB-ENG": eng,
        "GB-LND": region("GB-LND", eng, "London"),
        "GB-MAN": region("GB-MAN", eng, "Manchester"),
        "GB-SCT": region("GB-SCT", gb, "Scotland"),
        "FR": region("FR", name="France"),
    }
    for node in tree.values():  # each new node renumbered the tree
        node.refresh_from_db()
    return tree


@pytest.fixture
def categories(db) -> dict:
    vehicles = CategoryFactory(slug="vehicles", name="Vehicles")
    cars = CategoryFactory(slug="cars", name="Cars", parent=vehicles, attributes=CAR_SCHEMA)
    vans = CategoryFactory(slug="vans", name="Vans", parent=vehicles)
    phones = CategoryFactory(
        slug="phones",
        name="Phones",
        attributes=[{"name": "storage_gb", "label": "Storage", "type": "number", "unit": "GB"}],
    )
    for category in (vehicles, cars, vans, phones):  # treebeard counted the children added since
        category.refresh_from_db()
    return {"vehicles": vehicles, "cars": cars, "vans": vans, "phones": phones}


@pytest.fixture
def vendor(db):
    return VendorFactory(name="Yaris Specialists")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def vendor_client(vendor):
    """An API client authenticated as ``vendor``."""
    _, raw_key = issue_api_key(vendor=vendor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    client.vendor = vendor
    return client


@pytest.fixture
def make_vendor_client(db):
    def make(vendor=None):
        vendor = vendor or VendorFactory()
        _, raw_key = issue_api_key(vendor=vendor)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        client.vendor = vendor
        return client

    return make


@pytest.fixture(autouse=True)
def _webhooks_to_localhost(settings):
    settings.INTENTCAST = {**settings.INTENTCAST, "WEBHOOKS_ALLOW_PRIVATE": True}


@pytest.fixture
def publish(django_capture_on_commit_callbacks, categories, regions):
    """Publish an intent through the real pipeline (tasks run in-process in unit tests)."""

    def publish_(customer, **data):
        fields = {
            "title": "Low-mileage Toyota Yaris, T3 or TR spec",
            "details": "Silver, UK, aircon, ideally 1.3 petrol, five doors.",
            "category": categories["cars"],
            "region": regions["GB-LND"],
            "attributes": {"make": "Toyota", "trim": ["T3", "TR"], "mileage": 40000, "aircon": True, "doors": 5},
            "budget_max": Decimal("4000"),
            "currency": "GBP",
            **data,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return publish_intent(customer=customer, **fields)

    return publish_


@pytest.fixture
def subscribe(categories, regions):
    """Subscribe a vendor to GB cars (or whatever is passed)."""

    def subscribe_(vendor, **data):
        fields = {"categories": [categories["cars"]], "regions": [regions["GB"]], **data}
        return save_subscription(vendor=vendor, **fields)

    return subscribe_
