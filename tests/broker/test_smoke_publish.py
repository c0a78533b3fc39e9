from decimal import Decimal

from broker.models import Delivery
from intents.services import publish_intent
from vendors.services import save_subscription
from tests.factories import VendorFactory


def test_published_intent_reaches_subscribed_vendor(customer, categories, regions, django_capture_on_commit_callbacks):
    vendor = VendorFactory()
    save_subscription(vendor=vendor, categories=[categories["vehicles"]], regions=[regions["GB"]])
    with django_capture_on_commit_callbacks(execute=True):
        intent = publish_intent(
        customer=customer,
        title="Toyota Yaris",
        category=categories["cars"],
        region=regions["GB-LND"],
        attributes={"make": "toyota"},
        budget_max=Decimal("4000"),
        currency="gbp",
    )
    assert Delivery.objects.filter(intent=intent, vendor=vendor).count() == 1
