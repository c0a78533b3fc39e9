"""Her request page reads as much with 50 offers as with 5 (bench/api.py times it), and each
offer's links, written once per page and filled in per offer, lead where they should."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import VendorFactory
from vendors.models import Bid, BidCounter, BidRevision, Delivery


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


def add_offers(intent, count, start=0):
    """``count`` offers from as many vendors, each revised once and asked for better once:
    every per-offer relation has rows."""
    bids = []
    for n in range(start, start + count):
        vendor = VendorFactory(name=f"Dealer {n}")
        Delivery.objects.create(intent=intent, vendor=vendor, seen_at=intent.created_at)
        bid = Bid.objects.create(
            intent=intent,
            vendor=vendor,
            amount=Decimal(3000 + n),
            currency="GBP",
            offered_attributes={"make": "Toyota", "mileage": 30000 + n},
            terms_accepted=intent.terms,
        )
        BidRevision.objects.create(bid=bid, amount=Decimal(3100 + n), currency="GBP")
        BidCounter.objects.create(bid=bid, target_amount=Decimal(2900))
        bids.append(bid)
    return bids


def test_the_page_reads_as_much_for_50_offers_as_for_5(signed_in, customer, publish):
    intent = publish(customer)
    url = reverse("intents:detail", args=[intent.pk])
    add_offers(intent, 5)
    signed_in.get(url)  # the session, once
    with CaptureQueriesContext(connection) as five:
        assert signed_in.get(url).content.decode().count("Dealer ") > 0
    add_offers(intent, 45, start=5)
    with CaptureQueriesContext(connection) as fifty:
        html = signed_in.get(url).content.decode()
    assert "Dealer 49" in html and 'Offers <span class="count">(50)' in html
    assert len(fifty) == len(five), [q["sql"][:80] for q in fifty]


def test_each_offer_links_to_its_own_actions(signed_in, customer, publish):
    intent = publish(customer)
    first, second = add_offers(intent, 2)
    html = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    for bid in (first, second):
        for name in ("accept", "decline"):
            assert f'href="{reverse(f"intents:{name}", args=[intent.pk, bid.pk])}"' in html
        for name in ("thread", "block"):
            assert f'href="{reverse(f"intents:{name}", args=[intent.pk, bid.vendor_id])}"' in html
    BidCounter.objects.filter(bid=first).update(status=BidCounter.Status.DECLINED)
    html = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert f'href="{reverse("intents:counter", args=[intent.pk, first.pk])}"' in html  # asked, declined: ask again
    assert f'href="{reverse("intents:counter", args=[intent.pk, second.pk])}"' not in html  # still open


def test_the_page_counts_who_has_her_request_and_why_vendors_passed(signed_in, customer, publish):
    """Reach and pass reasons are counted from the audience list: a vendor that lost the request
    after an amendment is not counted as having it, but its pass still says why."""
    intent = publish(customer)
    Delivery.objects.filter(intent=intent).delete()
    now = intent.created_at
    for n, (seen, passed, reason, withdrawn) in enumerate(
        [
            (True, True, Delivery.PassReason.choices[0][0], False),
            (True, True, Delivery.PassReason.choices[0][0], True),
            (True, True, "", False),
            (True, False, "", False),
            (False, False, "", False),
        ]
    ):
        Delivery.objects.create(
            intent=intent,
            vendor=VendorFactory(name=f"Dealer {n}"),
            seen_at=now if seen else None,
            passed_at=now if passed else None,
            pass_reason=reason,
            withdrawn_at=now if withdrawn else None,
        )
    html = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "Your request reached 4 vendors; 3 opened it, 2 passed." in html
    label = Delivery.PassReason.choices[0][1].lower()
    assert f"Why they passed: 2 · {label}; 1 · no reason given." in html


def test_revisions_and_requests_for_better_are_read_only_when_an_offer_has_some(signed_in, customer, publish):
    """intent_bids reads a bid's photos, revisions and her requests for better only for the bids
    that have some: none for plain offers, and what is read is listed."""
    intent = publish(customer)
    url = reverse("intents:detail", args=[intent.pk])
    for n in range(2):
        Bid.objects.create(
            intent=intent,
            vendor=VendorFactory(name=f"Plain {n}"),
            amount=Decimal(2000 + n),
            currency="GBP",
            terms_accepted=intent.terms,
        )
    signed_in.get(url)  # the session, once
    with CaptureQueriesContext(connection) as plain:
        html = signed_in.get(url).content.decode()
    assert "Plain 1" in html and "Revised" not in html
    add_offers(intent, 1, start=2)  # revised once, asked for better once; no photo
    with CaptureQueriesContext(connection) as revised:
        html = signed_in.get(url).content.decode()
    assert len(revised) == len(plain) + 2, [q["sql"][:80] for q in revised]
    assert "Revised 1 time</summary>" in html and "<li>£3,102 until" in html and "You asked for" in html


def test_each_offer_is_a_column_and_a_card_with_its_vendor_name_escaped(signed_in, customer, publish):
    """The offers section is a Jinja2 template (``website/offers.jinja``), which escapes as Django's
    engine does: each offer has its column head, its cells in every row and its card, and a
    vendor's name is text, never markup."""
    intent = publish(customer)
    vendor = VendorFactory(name="<script>alert(1)</script> & Sons")
    Bid.objects.create(intent=intent, vendor=vendor, amount=Decimal(3000), currency="GBP", terms_accepted=intent.terms)
    add_offers(intent, 2)
    html = signed_in.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons"
    assert html.count('<th scope="col" class="offer-head offer-active">') == 3
    assert html.count('<li class="card offer-card offer-active">') == 3
    profile = reverse("intents:vendor_profile", args=[vendor.pk])
    assert f'<a class="vendor" href="{profile}">{escaped}</a>' in html
    assert f'<h3><a href="{profile}">{escaped}</a></h3>' in html
    assert html.count('<td class="actions">') == 3
