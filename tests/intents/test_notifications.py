"""Her notifications: an entry on the site for every event, always; an email as well for the
kinds she wants by email; her list, newest first, marked read; nobody else's."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from intents.models import Intent, Notification
from intents.notifications import EMAIL_BY_DEFAULT, email_choices, save_email_choices
from tests.factories import UserFactory
from vendors.deal import accept_bid, counter_bid, decline_counter, expire_intents, mark_outcome, remove_intent
from vendors.models import Bid, DealOutcome, Message
from vendors.services import place_bid, revise_bid
from vendors.threads import post_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_with_offer(customer, vendor, publish, subscribe, django_capture_on_commit_callbacks):
    subscribe(vendor)
    intent = publish(customer)
    with django_capture_on_commit_callbacks(execute=True):
        bid = place_bid(vendor=vendor, intent_id=intent.pk, amount=Decimal("3750"), currency="GBP")
    return intent, bid


def kinds(customer):
    return list(Notification.objects.filter(customer=customer).values_list("kind", flat=True))


def test_every_kind_is_emailed_by_default(customer):
    assert email_choices(customer=customer) == EMAIL_BY_DEFAULT
    assert all(EMAIL_BY_DEFAULT.values())


def test_a_new_offer_is_on_her_list_and_emailed(customer, request_with_offer, vendor):
    intent, _bid = request_with_offer
    [item] = Notification.objects.filter(customer=customer)
    assert item.kind == Notification.Kind.OFFER and vendor.name in item.text
    assert item.link == reverse("intents:detail", args=[intent.pk]) and item.read_at is None
    assert [m.to for m in mail.outbox] == [[customer.email]]


def test_with_offers_not_by_email_only_the_site_entry_is_made(
    customer, vendor, publish, subscribe, django_capture_on_commit_callbacks
):
    save_email_choices(customer=customer, choices={Notification.Kind.OFFER: False})
    subscribe(vendor)
    intent = publish(customer)
    with django_capture_on_commit_callbacks(execute=True):
        place_bid(vendor=vendor, intent_id=intent.pk, amount=Decimal("3750"), currency="GBP")
        post_message(intent=intent, vendor=vendor, sender=Message.Sender.VENDOR, body="It is silver.")
    assert kinds(customer) == [Notification.Kind.MESSAGE, Notification.Kind.OFFER]  # both on the site
    [email] = mail.outbox  # the message is emailed, the offer is not
    assert "wrote about" in email.subject


def test_counters_answered_and_messages_follow_their_own_choice(
    customer, request_with_offer, vendor, django_capture_on_commit_callbacks
):
    intent, bid = request_with_offer
    save_email_choices(
        customer=customer, choices={Notification.Kind.COUNTER_ANSWERED: False, Notification.Kind.MESSAGE: True}
    )
    mail.outbox.clear()
    counter_bid(customer=customer, bid_id=bid.pk, target_amount=Decimal("3500"))
    with django_capture_on_commit_callbacks(execute=True):
        revise_bid(bid=bid, amount=Decimal("3600"))
    counter_bid(customer=customer, bid_id=bid.pk, note="A bit more?")
    with django_capture_on_commit_callbacks(execute=True):
        decline_counter(vendor=vendor, bid=bid)
        post_message(intent=intent, vendor=vendor, sender=Message.Sender.VENDOR, body="Best I can do.")
    texts = list(Notification.objects.filter(customer=customer).values_list("text", flat=True))
    assert any("revised its offer" in t for t in texts) and any("will not change" in t for t in texts)
    assert [m.subject for m in mail.outbox] == [f"{vendor.name} wrote about “{intent.title}”"]


def test_her_own_messages_notify_nobody_on_her_side(customer, request_with_offer, vendor):
    intent, _ = request_with_offer
    post_message(intent=intent, vendor=vendor, sender=Message.Sender.CUSTOMER, body="Is it silver?")
    assert kinds(customer) == [Notification.Kind.OFFER]


def test_the_deal_steps_are_notified(customer, request_with_offer, vendor, django_capture_on_commit_callbacks):
    intent, bid = request_with_offer
    save_email_choices(customer=customer, choices={Notification.Kind.DEAL: False})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        accept_bid(customer=customer, bid_id=bid.pk)
        mark_outcome(
            bid=Bid.objects.get(pk=bid.pk),
            side=DealOutcome.Side.VENDOR,
            outcome=DealOutcome.Outcome.FELL_THROUGH,
            reason="Sold before she came",
            vendor=vendor,
        )
    deal = list(Notification.objects.filter(customer=customer, kind=Notification.Kind.DEAL).order_by("id"))
    assert [n.text for n in deal] == [
        f"Deal agreed with {vendor.name} on “{intent.title}”",
        f"{vendor.name} says the deal on “{intent.title}” fell through",
    ]
    assert mail.outbox == []


def test_her_own_word_on_the_deal_is_not_notified_to_her(customer, request_with_offer):
    _, bid = request_with_offer
    accept_bid(customer=customer, bid_id=bid.pk)
    mark_outcome(
        bid=Bid.objects.get(pk=bid.pk),
        side=DealOutcome.Side.CUSTOMER,
        outcome=DealOutcome.Outcome.COMPLETED,
        customer=customer,
    )
    assert kinds(customer).count(Notification.Kind.DEAL) == 1  # "deal agreed" only


def test_an_expired_or_removed_request_is_notified(customer, publish, django_capture_on_commit_callbacks):
    expiring = publish(customer, title="Expiring")
    removed = publish(customer, title="Removed")
    Intent.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_intents() == 1
        remove_intent(moderator=None, intent=removed, reason="Duplicate listing")
    texts = set(
        Notification.objects.filter(customer=customer, kind=Notification.Kind.REQUEST_CLOSED).values_list(
            "text", flat=True
        )
    )
    assert texts == {"Your request “Expiring” expired", "A moderator removed your request “Removed”"}
    assert {m.subject for m in mail.outbox} == {
        "Your request “Expiring” expired",
        "Your request “Removed” was removed",
    }


def test_an_unknown_kind_cannot_be_chosen(customer):
    with pytest.raises(ValueError, match="Unknown"):
        save_email_choices(customer=customer, choices={"newsletter": True})


# On the site ------------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


def test_her_list_is_newest_first_with_a_count_in_the_navigation(signed_in, customer, request_with_offer, vendor):
    intent, _ = request_with_offer
    post_message(intent=intent, vendor=vendor, sender=Message.Sender.VENDOR, body="Hello")
    page = signed_in.get(reverse("intents:notifications")).content.decode()
    assert page.index("wrote about") < page.index("made an offer")
    assert '<span class="nav-count">2<span class="visually-hidden"> unread</span></span>' in page


def test_opening_one_marks_it_read_and_follows_its_link(signed_in, customer, request_with_offer):
    intent, _ = request_with_offer
    item = Notification.objects.get(customer=customer)
    response = signed_in.post(reverse("intents:notification_open", args=[item.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("intents:detail", args=[intent.pk])
    item.refresh_from_db()
    assert item.read_at is not None
    assert "nav-count" not in signed_in.get(reverse("intents:notifications")).content.decode()


def test_mark_all_read(signed_in, customer, request_with_offer, vendor):
    intent, _ = request_with_offer
    post_message(intent=intent, vendor=vendor, sender=Message.Sender.VENDOR, body="Hello")
    response = signed_in.post(reverse("intents:notifications_read"), follow=True)
    assert "All marked read." in response.content.decode()
    assert not Notification.objects.filter(customer=customer, read_at__isnull=True).exists()


def test_opening_needs_a_post(signed_in, customer, request_with_offer):
    item = Notification.objects.get(customer=customer)
    assert signed_in.get(reverse("intents:notification_open", args=[item.pk])).status_code == 405
    item.refresh_from_db()
    assert item.read_at is None


def test_another_customer_sees_none_of_hers_and_cannot_mark_them(client, customer, request_with_offer):
    item = Notification.objects.get(customer=customer)
    client.force_login(UserFactory(username="bob"))
    page = client.get(reverse("intents:notifications")).content.decode()
    assert item.text not in page and "Nothing yet." in page
    assert client.post(reverse("intents:notification_open", args=[item.pk])).status_code == 404
    client.post(reverse("intents:notifications_read"))
    item.refresh_from_db()
    assert item.read_at is None


def test_the_settings_page_saves_her_choices(signed_in, customer):
    page = signed_in.get(reverse("intents:notification_settings")).content.decode()
    assert 'name="offer" id="id_offer" checked' in page
    response = signed_in.post(reverse("intents:notification_settings"), {"message": "on", "deal": "on"})
    assert response.status_code == 302
    assert email_choices(customer=customer) == {
        "offer": False,
        "counter_answered": False,
        "message": True,
        "deal": True,
        "request_closed": False,
        "terms": False,
        "moderation": False,
        "report": False,
    }
    assert 'name="offer" id="id_offer">' in signed_in.get(reverse("intents:notification_settings")).content.decode()


def test_the_pages_need_her_to_sign_in(client):
    response = client.get(reverse("intents:notifications"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
