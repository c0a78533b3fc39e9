"""The demo's data: a demo customer, an admin, and five demo vendors with subscriptions and API
keys (kept in var/demo_vendor_keys.json for the bots). Idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from intents.models import Category, Region
from vendors.models import Vendor
from vendors.services import authenticate_key, create_vendor, issue_api_key, save_subscription
from vendors.team import add_owner


class DemoSubscription(TypedDict):
    name: str
    categories: list[str]
    regions: list[str]
    attribute_filters: NotRequired[dict[str, Any]]


class DemoVendor(TypedDict):
    name: str
    email: str
    subscription: DemoSubscription


CUSTOMER = ("customer@demo.intentcast", "demo-customer-pass")
ADMIN = ("admin@demo.intentcast", "demo-admin-pass")
DEALER = ("dealer@demo.intentcast", "demo-dealer-pass")  # the first demo vendor's owner
VENDORS: list[DemoVendor] = [
    {
        "name": "Britannia Motors",
        "email": "sales@britannia-motors.example",
        "subscription": {"name": "Cars anywhere in the UK", "categories": ["cars"], "regions": ["GB"]},
    },
    {
        "name": "Yaris Specialists London",
        "email": "hello@yaris-london.example",
        "subscription": {
            "name": "Toyotas in London",
            "categories": ["vehicles"],
            "regions": ["GB-LND"],
            "attribute_filters": {"make": {"in": ["Toyota"]}},
        },
    },
    {
        "name": "PhoneHub UK",
        "email": "deals@phonehub.example",
        "subscription": {"name": "Phones in the UK", "categories": ["phones"], "regions": ["GB"]},
    },
    {
        "name": "HomeFix England",
        "email": "jobs@homefix.example",
        "subscription": {"name": "Home services in England", "categories": ["home-services"], "regions": ["GB-ENG"]},
    },
    {
        "name": "Voyage Travel",
        "email": "trips@voyage.example",
        "subscription": {"name": "Travel from the UK and France", "categories": ["travel"], "regions": ["GB", "FR"]},
    },
]


def keys_path() -> Path:
    return Path(settings.BASE_DIR) / "var" / "demo_vendor_keys.json"


def seed_person(login: tuple[str, str], *, username: str, admin: bool) -> None:
    """A user with a verified email address who can log in with ``login``."""
    email, password = login
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
    if created:
        user.set_password(password)
        user.is_staff = user.is_superuser = admin
        user.save()
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})


def seed_vendors() -> dict[str, str]:
    """The demo vendors, approved and subscribed; returns a working API key for each, by name.
    The first one's owner can log in to the vendor area (``DEALER``)."""
    known: dict[str, str] = json.loads(keys_path().read_text()) if keys_path().exists() else {}
    keys: dict[str, str] = {}
    for spec in VENDORS:
        vendor = Vendor.objects.filter(name=spec["name"]).first()
        if vendor is None:
            vendor = create_vendor(name=spec["name"], contact_email=spec["email"], approve=True)
            sub = spec["subscription"]
            save_subscription(
                vendor=vendor,
                name=sub["name"],
                categories=list(Category.objects.filter(slug__in=sub["categories"])),
                regions=list(Region.objects.filter(code__in=sub["regions"])),
                attribute_filters=sub.get("attribute_filters", {}),
            )
        key = known.get(spec["name"])
        api_key = authenticate_key(key) if key else None
        if key is None or api_key is None or api_key.vendor_id != vendor.pk:
            _, key = issue_api_key(vendor=vendor, name="demo bot")
        keys[spec["name"]] = key
        if spec is VENDORS[0]:
            seed_person(DEALER, username="demo-dealer", admin=False)
            add_owner(vendor=vendor, user=get_user_model().objects.get(username="demo-dealer"))
    return keys


@transaction.atomic
def seed() -> dict[str, str]:
    """The customer, the admin and the vendors; the vendors' keys are written for the bots."""
    seed_person(CUSTOMER, username="demo-customer", admin=False)
    seed_person(ADMIN, username="demo-admin", admin=True)
    keys = seed_vendors()
    path = keys_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys, indent=2))
    return keys
