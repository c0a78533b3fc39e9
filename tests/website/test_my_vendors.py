"""My vendors: every vendor she has dealt with, the whole history with each on one page, her
private notes, her ratings, and inviting, blocking (after a confirmation) and unblocking."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from reputation.models import Rating
from reputation.services import rate
from tests.factories import UserFactory, VendorFactory
from vendors.deal import accept_bid, counter_bid, mark_outcome
from vendors.models import Bid, Block, DealOutcome, Message, VendorNote
from vendors.relationships import MAX_NOTE, save_vendor_note
from vendors.services import pass_intent, place_bid
from vendors.threads import post_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def dealings(customer, publish, subscribe):
    """Yaris World: an accepted, completed and rated deal with messages, then an offer on a second
    request that she asked to improve. Quiet Motors: got both requests and passed on one, never
    offered. Chatty Cars: only messages."""
    yaris, quiet, chatty = (VendorFactory(name=n) for n in ("Yaris World", "Quiet Motors", "Chatty Cars"))
    for vendor in (yaris, quiet, chatty):
        subscribe(vendor)
    first = publish(customer, title="Silver Yaris")
    bid = place_bid(vendor=yaris, intent_id=first.pk, amount=Decimal("3750"), currency="GBP")
    post_message(intent=first, vendor=yaris, sender=Message.Sender.VENDOR, body="It has a full service history.")
    post_message(intent=first, vendor=yaris, sender=Message.Sender.CUSTOMER, body="Lovely, is it silver?")
    post_message(intent=first, vendor=chatty, sender=Message.Sender.VENDOR, body="We may have one next week.")
    accept_bid(customer=customer, bid_id=bid.pk)
    bid = Bid.objects.get(pk=bid.pk)
    mark_outcome(bid=bid, side=DealOutcome.Side.CUSTOMER, outcome=DealOutcome.Outcome.COMPLETED, customer=customer)
    rate(bid=bid, by=Rating.Side.CUSTOMER, score=4, comment="Honest and quick")
    second = publish(customer, title="Red Aygo")
    offer = place_bid(vendor=yaris, intent_id=second.pk, amount=Decimal("2999"), currency="GBP")
    counter_bid(customer=customer, bid_id=offer.pk, target_amount=Decimal("2800"))
    pass_intent(vendor=quiet, intent_id=second.pk, reason="price")
    return {"yaris": yaris, "quiet": quiet, "chatty": chatty, "first": first, "second": second}


def test_the_list_holds_every_vendor_she_dealt_with_and_no_other(signed_in, dealings):
    page = signed_in.get(reverse("intents:vendors")).content.decode()
    assert "Yaris World" in page and "Chatty Cars" in page
    assert "Quiet Motors" not in page  # it got her requests but never offered nor wrote
    assert "2 offers · 1 deal · 2 messages" in page
    assert "0 offers · 0 deals · 1 message" in page


def test_the_navigation_links_to_my_vendors(signed_in):
    assert (
        f'href="{reverse("intents:vendors")}">My vendors</a>' in signed_in.get(reverse("intents:list")).content.decode()
    )


def test_an_empty_list_says_what_will_happen(signed_in):
    assert "No vendor has made you an offer yet" in signed_in.get(reverse("intents:vendors")).content.decode()


def test_the_vendor_page_holds_the_whole_history(signed_in, dealings):
    page = signed_in.get(reverse("intents:vendor", args=[dealings["yaris"].pk])).content.decode()
    assert page.index("Red Aygo") < page.index("Silver Yaris")  # newest request first
    assert "£3,750" in page and "Accepted" in page and "£2,999" in page
    assert "You asked for a better offer (£2,800): waiting for the vendor." in page
    assert "It has a full service history." in page and "Lovely, is it silver?" in page
    assert "You said the deal was completed" in page
    assert "You rated the deal 4 / 5: “Honest and quick”." in page
    assert f'href="{reverse("intents:new")}?invite={dealings["yaris"].pk}"' in page
    assert "Invite to a new request" in page


def test_a_vendor_she_never_dealt_with_has_no_page(signed_in, dealings):
    assert signed_in.get(reverse("intents:vendor", args=[dealings["quiet"].pk])).status_code == 404
    assert signed_in.get(reverse("intents:vendor", args=[999999])).status_code == 404


def test_another_customer_cannot_see_her_vendor_page_nor_her_notes(client, customer, dealings):
    save_vendor_note(customer=customer, vendor_id=dealings["yaris"].pk, body="Ask for Tom, not Jerry")
    client.force_login(UserFactory(username="bob"))
    assert client.get(reverse("intents:vendor", args=[dealings["yaris"].pk])).status_code == 404
    response = client.post(reverse("intents:vendor_note", args=[dealings["yaris"].pk]), {"body": "mine now"})
    assert response.status_code == 404
    assert VendorNote.objects.get().body == "Ask for Tom, not Jerry"


def test_she_writes_changes_and_deletes_her_notes(signed_in, customer, dealings):
    url = reverse("intents:vendor_note", args=[dealings["yaris"].pk])
    response = signed_in.post(url, {"body": "  Ask for Tom, not Jerry  "}, follow=True)
    assert "Notes saved. Only you can see them." in response.content.decode()
    assert "Ask for Tom, not Jerry</textarea>" in response.content.decode()
    signed_in.post(url, {"body": "Tom left; ask for Ann"})
    assert VendorNote.objects.get(customer=customer).body == "Tom left; ask for Ann"
    signed_in.post(url, {"body": ""})
    assert not VendorNote.objects.exists()


def test_a_note_too_long_is_refused_next_to_the_field(signed_in, dealings):
    response = signed_in.post(
        reverse("intents:vendor_note", args=[dealings["yaris"].pk]), {"body": "x" * (MAX_NOTE + 1)}
    )
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode() and "at most 5000 characters" in response.content.decode()
    assert not VendorNote.objects.exists()


def test_blocking_asks_first_then_blocks_and_unblocking_lifts_it(signed_in, customer, dealings):
    url = reverse("intents:vendor_block", args=[dealings["yaris"].pk])
    page = signed_in.get(url).content.decode()
    assert "Block Yaris World?" in page and "None of your requests will reach Yaris World again." in page
    assert not Block.objects.exists()  # asking is not blocking
    page = signed_in.post(url, follow=True).content.decode()
    assert "Blocked." in page and "Unblock Yaris World" in page and "Invite to a new request" not in page
    assert Block.objects.filter(customer=customer, blocked_by=Block.Side.CUSTOMER).count() == 1
    assert "Unblock Yaris World?" in signed_in.get(url).content.decode()
    page = signed_in.post(url, follow=True).content.decode()
    assert "Unblocked." in page and not Block.objects.exists()


def test_unblocking_leaves_the_vendors_own_block(signed_in, customer, dealings):
    yaris = dealings["yaris"]
    Block.objects.create(customer=customer, vendor=yaris, blocked_by=Block.Side.VENDOR)
    url = reverse("intents:vendor_block", args=[yaris.pk])
    signed_in.post(url)  # block
    signed_in.post(url)  # unblock
    assert list(Block.objects.values_list("blocked_by", flat=True)) == [Block.Side.VENDOR]


def test_a_sealed_requests_offers_stay_hidden_on_the_vendor_page(signed_in, customer, dealings, publish):
    sealed = publish(customer, title="Sealed Corolla", format="sealed", sealed_until=timezone.now() + timedelta(days=2))
    place_bid(vendor=dealings["yaris"], intent_id=sealed.pk, amount=Decimal("1234"), currency="GBP")
    page = signed_in.get(reverse("intents:vendor", args=[dealings["yaris"].pk])).content.decode()
    assert "Sealed Corolla" in page and "£1,234" not in page
