import pytest
from django.test import Client

from tests.factories import UserFactory, VendorFactory
from vendors.models import Vendor, VendorMembership

PASSWORD = "a long unusual passphrase"


def signup_data(categories, regions, overrides=None):
    return {
        "business_name": "Bob's Cars",
        "email": "bob@bobscars.example",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "website": "https://bobscars.example",
        "description": "Family dealer in Croydon since 1987: used Toyotas and Hondas.",
        "categories": [categories["cars"].pk],
        "regions": [regions["GB"].code],
        **(overrides or {}),
    }


@pytest.fixture
def dealer(db):
    """An approved vendor with an owner logged in (a Django test client)."""
    vendor = VendorFactory(name="Croydon Motors", status=Vendor.Status.APPROVED)
    owner = UserFactory(username="owner", email="owner@croydon.example")
    VendorMembership.objects.create(vendor=vendor, user=owner, role=VendorMembership.Role.OWNER)
    client = Client()
    client.force_login(owner)
    client.vendor, client.user = vendor, owner
    return client


@pytest.fixture
def customer_client(customer):
    client = Client()
    client.force_login(customer)
    return client
