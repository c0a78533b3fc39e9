"""The navigation: a vendor's login is offered the vendor area, a customer her own pages; on
her pages the question is asked of the database once (the middleware's answer is reused)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import IntentFactory, UserFactory, VendorFactory
from vendors.models import VendorMembership

pytestmark = pytest.mark.django_db


def test_a_vendors_login_is_offered_the_vendor_area(client):
    user = UserFactory()
    VendorMembership.objects.create(vendor=VendorFactory(), user=user, role=VendorMembership.Role.OWNER)
    client.force_login(user)
    home = client.get(reverse("intents:home")).content.decode()
    assert "Vendor area" in home and 'class="nav-bell"' not in home
    refused = client.get(reverse("intents:list"))  # a customer's page: refused, the navigation the same
    assert refused.status_code == 403 and "Vendor area" in refused.content.decode()


def test_her_request_page_asks_once_whether_her_login_is_a_vendors(client, customer, categories, regions):
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"])
    client.force_login(customer)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert 'class="nav-bell"' in page and "Vendor area" not in page
    assert sum("vendormembership" in query["sql"] for query in captured) == 1
