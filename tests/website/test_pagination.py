"""Every list of the website pages (broker.website.paging): a page of 25 (50 notifications, 50
messages), links to the others, any ``?page=`` answered with a page, never a 500, and as many
queries for a long list as for a short one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from intents.models import Intent, Notification
from tests.factories import IntentFactory, VendorFactory
from vendors.models import Bid, Message


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


def her_requests(customer, categories, regions, count):
    return Intent.objects.bulk_create(
        [
            IntentFactory.build(
                customer=customer, title=f"Request number {n}", category=categories["cars"], region=regions["GB"]
            )
            for n in range(count)
        ]
    )


def test_my_requests_come_25_a_page_newest_first(signed_in, customer, categories, regions):
    her_requests(customer, categories, regions, 30)
    first = signed_in.get(reverse("intents:list"))
    html = first.content.decode()
    assert html.count('class="card"') == 25
    assert "Request number 29" in html and "Request number 4<" not in html
    assert 'aria-label="Pages of your requests"' in html and 'href="?page=2"' in html
    assert 'aria-current="page">Page 1 of 2' in html
    second = signed_in.get(reverse("intents:list") + "?page=2").content.decode()
    assert second.count('class="card"') == 5 and "Request number 0<" in second and 'href="?page=1"' in second


@pytest.mark.parametrize("page", ["abc", "0", "-1", "999", "", "1.5", "%C3%A9"])
def test_a_page_number_typed_by_hand_never_fails(signed_in, customer, categories, regions, page):
    her_requests(customer, categories, regions, 30)
    for name in ("intents:list", "intents:vendors", "intents:notifications"):
        response = signed_in.get(reverse(name) + f"?page={page}")
        assert response.status_code == 200, name
    listing = signed_in.get(reverse("intents:list") + f"?page={page}").content.decode()
    assert 'aria-current="page">Page 2 of 2' in listing if page == "999" else "Page 1 of 2" in listing


def test_my_requests_read_as_much_for_300_requests_as_for_3(
    signed_in, customer, categories, regions, django_assert_max_num_queries
):
    her_requests(customer, categories, regions, 3)
    signed_in.get(reverse("intents:list"))  # the session, once
    with CaptureQueriesContext(connection) as few:
        signed_in.get(reverse("intents:list"))
    her_requests(customer, categories, regions, 297)
    with django_assert_max_num_queries(len(few) + 1):  # + the count of the pages
        response = signed_in.get(reverse("intents:list"))
    assert response.content.decode().count('class="card"') == 25


def test_my_vendors_page(signed_in, customer, categories, regions):
    intent = her_requests(customer, categories, regions, 1)[0]
    for n in range(27):
        Bid.objects.create(intent=intent, vendor=VendorFactory(name=f"Dealer {n}"), amount=100 + n, currency="GBP")
    html = signed_in.get(reverse("intents:vendors")).content.decode()
    assert html.count("Dealer ") == 25 and 'aria-label="Pages of your vendors"' in html
    assert signed_in.get(reverse("intents:vendors") + "?page=2").content.decode().count("Dealer ") == 2


def test_notifications_page_and_the_unread_count_is_of_them_all(signed_in, customer):
    Notification.objects.bulk_create(
        [Notification(customer=customer, kind="offer", text=f"Offer number {n}") for n in range(60)]
    )
    html = signed_in.get(reverse("intents:notifications")).content.decode()
    assert html.count('<li class="unread">') == 50 and "Mark all 60 as read" in html
    assert (
        signed_in.get(reverse("intents:notifications") + "?page=2").content.decode().count('<li class="unread">') == 10
    )


def test_a_conversation_opens_on_its_newest_messages(signed_in, customer, categories, regions):
    intent = her_requests(customer, categories, regions, 1)[0]
    bid = Bid.objects.create(intent=intent, vendor=VendorFactory(name="Chatty Cars"), amount=100, currency="GBP")
    Message.objects.bulk_create(
        [
            Message(intent=intent, vendor=bid.vendor, sender=Message.Sender.VENDOR, body=f"Line {n:03}")
            for n in range(60)
        ]
    )
    url = reverse("intents:thread", args=[intent.pk, bid.vendor_id])
    html = signed_in.get(url).content.decode()
    assert "Line 059" in html and "Line 050" in html and "Line 049" not in html  # the last page of 50
    assert 'href="?page=1"' in html and "Older" in html
    older = signed_in.get(url + "?page=1").content.decode()
    assert "Line 000" in older and "Line 049" in older and "Line 050" not in older
    assert signed_in.get(url + "?page=zzz").status_code == 200
