"""Demo data: the taxonomy, the ISO regions, a demo customer, an admin, and five demo vendors
with subscriptions and API keys (kept in var/demo_vendor_keys.json for the bots). Idempotent."""

import json
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from intents.models import Category, Region
from vendors.models import Vendor
from vendors.services import authenticate_key, create_vendor, issue_api_key, save_subscription

CUSTOMER = ("customer@demo.intentcast", "demo-customer-pass")
ADMIN = ("admin@demo.intentcast", "demo-admin-pass")
VENDORS = [
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


class Command(BaseCommand):
    help = "Seed the demo: taxonomy, regions, a customer, an admin and five vendors with API keys."

    def handle(self, *args, **options):
        call_command("load_taxonomy", stdout=self.stdout)
        with transaction.atomic():
            self.person(CUSTOMER, username="demo-customer", admin=False)
            self.person(ADMIN, username="demo-admin", admin=True)
            keys = self.vendors()
        path = keys_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(keys, indent=2))
        self.stdout.write(f"Demo customer {CUSTOMER[0]} / {CUSTOMER[1]}; admin {ADMIN[0]} / {ADMIN[1]}.")
        self.stdout.write(f"{len(keys)} demo vendors; their API keys are in {path}.")

    def person(self, login: tuple[str, str], *, username: str, admin: bool) -> None:
        email, password = login
        user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
        if created:
            user.set_password(password)
            user.is_staff = user.is_superuser = admin
            user.save()
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})

    def vendors(self) -> dict[str, str]:
        known = json.loads(keys_path().read_text()) if keys_path().exists() else {}
        keys = {}
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
            if key is None or authenticate_key(key) is None or authenticate_key(key).vendor_id != vendor.pk:
                _, key = issue_api_key(vendor=vendor, name="demo bot")
            keys[spec["name"]] = key
        return keys
