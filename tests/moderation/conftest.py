import pytest

from reputation.models import Rating
from tests.factories import IntentFactory
from vendors.models import Bid, Message
from vendors.threads import post_message


@pytest.fixture
def dealing(customer, vendor, publish, subscribe, django_capture_on_commit_callbacks):
    """Her request cast to ``vendor``, its offer, and a message each way."""
    subscribe(vendor)
    intent = publish(customer)
    bid = Bid.objects.create(intent=intent, vendor=vendor, amount=3500, currency="GBP", terms_accepted=intent.terms)
    with django_capture_on_commit_callbacks(execute=True):
        from_vendor = post_message(intent=intent, vendor=vendor, sender=Message.Sender.VENDOR, body="Call me")
        from_her = post_message(intent=intent, vendor=vendor, sender=Message.Sender.CUSTOMER, body="No thanks")
    return {"intent": intent, "bid": bid, "from_vendor": from_vendor, "from_her": from_her}


@pytest.fixture
def her_client(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def moderator(admin_user):
    return admin_user


@pytest.fixture
def rated_bid(customer, vendor, categories, regions):
    """A completed deal she rated (written directly; reputation's own tests cover how)."""
    intent = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"], status="completed")
    bid = Bid.objects.create(
        intent=intent, vendor=vendor, amount=1000, currency="GBP", terms_accepted={}, status=Bid.Status.ACCEPTED
    )
    Rating.objects.create(bid=bid, by=Rating.Side.CUSTOMER, score=1, comment="Awful")
    return bid
