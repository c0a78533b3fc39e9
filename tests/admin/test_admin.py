import html
import json
import re

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import ProtectedError
from django.urls import reverse

from broker.models import AuditLog, OutboxEvent
from intents.models import Category, Intent
from reputation.models import Rating, RingFlag
from reputation.services import rate
from tests.factories import VendorFactory
from vendors.deal import accept_bid, mark_outcome
from vendors.models import Bid, DealOutcome, Message, Subscription, SubscriptionKey, Vendor, WebhookEndpoint
from vendors.services import issue_api_key
from vendors.threads import post_message
from vendors.webhooks import new_secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(customer, publish, subscribe, vendor):
    """One of everything."""
    subscribe(vendor)
    issue_api_key(vendor=vendor)
    WebhookEndpoint.objects.create(vendor=vendor, url="http://127.0.0.1:9/hook", secret=new_secret())
    intent = publish(customer)
    bid = Bid.objects.create(intent=intent, vendor=vendor, amount=3500, currency="GBP", terms_accepted=intent.terms)
    post_message(intent=intent, vendor=vendor, sender=Message.Sender.CUSTOMER, body="Hello")
    accept_bid(customer=customer, bid_id=bid.pk)
    bid.refresh_from_db()
    mark_outcome(bid=bid, side=DealOutcome.Side.CUSTOMER, outcome=DealOutcome.Outcome.COMPLETED, customer=customer)
    rate(bid=bid, by=Rating.Side.CUSTOMER, score=4)
    return intent


def test_every_model_has_working_admin_pages(admin_client, world):
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = admin_client.get(reverse(f"{prefix}_changelist"))
        assert changelist.status_code == 200, model
        obj = model.objects.first()
        if obj is not None:
            assert admin_client.get(reverse(f"{prefix}_change", args=[obj.pk])).status_code == 200, model
        if model_admin.has_add_permission(changelist.wsgi_request):
            assert admin_client.get(reverse(f"{prefix}_add")).status_code == 200, model


def test_search_works_everywhere(admin_client, world):
    for model, model_admin in admin.site._registry.items():
        if model_admin.search_fields:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            assert admin_client.get(url, {"q": "yaris"}).status_code == 200


def test_approve_and_suspend_vendors_are_audited(admin_client, admin_user):
    vendor = VendorFactory(status=Vendor.Status.PENDING)
    url = reverse("admin:vendors_vendor_changelist")
    admin_client.post(url, {"action": "approve", ACTION_CHECKBOX_NAME: [vendor.pk]})
    vendor.refresh_from_db()
    assert vendor.status == "approved" and vendor.approved_at is not None
    asked = admin_client.post(url, {"action": "suspend", ACTION_CHECKBOX_NAME: [vendor.pk]})
    assert asked.status_code == 200 and b"Why?" in asked.content  # the reason is asked first
    vendor.refresh_from_db()
    assert vendor.status == "approved"
    admin_client.post(
        url, {"action": "suspend", ACTION_CHECKBOX_NAME: [vendor.pk], "apply": "1", "reason": "Fake reviews"}
    )
    vendor.refresh_from_db()
    assert vendor.status == "suspended"
    actions = list(AuditLog.objects.filter(target_id=str(vendor.pk)).values_list("action", "actor"))
    assert ("vendor.approved", admin_user.pk) in actions and ("vendor.suspended", admin_user.pk) in actions


def test_removing_a_request_asks_for_a_reason_and_records_it(admin_client, admin_user, customer, publish):
    intent = publish(customer)
    url = reverse("admin:intents_intent_changelist")
    asked = admin_client.post(url, {"action": "remove_requests", ACTION_CHECKBOX_NAME: [intent.pk]})
    assert asked.status_code == 200 and b"Why? (kept in the audit log)" in asked.content
    empty = admin_client.post(
        url, {"action": "remove_requests", ACTION_CHECKBOX_NAME: [intent.pk], "apply": "1", "reason": ""}
    )
    assert empty.status_code == 200 and b"This field is required." in empty.content
    assert Intent.objects.get().status == "open"
    admin_client.post(
        url, {"action": "remove_requests", ACTION_CHECKBOX_NAME: [intent.pk], "apply": "1", "reason": "Spam"}
    )
    intent.refresh_from_db()
    assert intent.status == "removed" and intent.removal_reason == "Spam"
    log = AuditLog.objects.get(action="intent.removed")
    assert log.actor == admin_user and log.detail == {"reason": "Spam"}


def test_audit_log_cannot_be_edited(admin_client, admin_user, world):
    log = AuditLog.objects.create(
        actor=admin_user, action="vendor.approved", target_type="vendors.vendor", target_id="1"
    )
    assert admin_client.get(reverse("admin:broker_auditlog_add")).status_code == 403
    assert admin_client.post(reverse("admin:broker_auditlog_delete", args=[log.pk]), {"post": "yes"}).status_code == 403
    assert AuditLog.objects.filter(pk=log.pk).exists()


def test_saving_a_subscription_in_admin_reindexes_it(admin_client, vendor, categories, regions, subscribe):
    subscription = subscribe(vendor)
    url = reverse("admin:vendors_subscription_change", args=[subscription.pk])
    response = admin_client.post(
        url,
        {
            "vendor": vendor.pk,
            "name": "changed",
            "categories": [categories["phones"].pk],
            "regions": [regions["FR"].pk, regions["GB"].pk],
            "keywords": "[]",
            "language": "en",
            "attribute_filters": "{}",
            "min_budget": "",
            "min_budget_currency": "",
            "daily_cap": "",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    keys = set(SubscriptionKey.objects.filter(subscription=subscription).values_list("category_id", "region_lft"))
    assert keys == {(categories["phones"].pk, regions["FR"].lft), (categories["phones"].pk, regions["GB"].lft)}
    assert Subscription.objects.get().name == "changed"


def test_hiding_a_rating_is_audited(admin_client, world):
    rating = Rating.objects.get()
    url = reverse("admin:reputation_rating_changelist")
    asked = admin_client.post(url, {"action": "hide", ACTION_CHECKBOX_NAME: [rating.pk]})
    assert asked.status_code == 200 and b"Why?" in asked.content
    rating.refresh_from_db()
    assert rating.hidden_by_moderator is False  # nothing done before the reason
    admin_client.post(url, {"action": "hide", ACTION_CHECKBOX_NAME: [rating.pk], "apply": "1", "reason": "Insults"})
    rating.refresh_from_db()
    assert rating.hidden_by_moderator is True
    log = AuditLog.objects.get(action="rating.hidden", target_id=str(rating.pk))
    assert log.detail == {"reason": "Insults"}


def test_disabling_an_endpoint(admin_client, world):
    endpoint = WebhookEndpoint.objects.get()
    admin_client.post(
        reverse("admin:vendors_webhookendpoint_changelist"), {"action": "disable", ACTION_CHECKBOX_NAME: [endpoint.pk]}
    )
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert AuditLog.objects.filter(action="webhook_endpoint.disabled").exists()


def test_intent_changelist_query_count_is_bounded(admin_client, customer, publish, django_assert_max_num_queries):
    for n in range(3):
        publish(customer, title=f"Yaris {n}")
    url = reverse("admin:intents_intent_changelist")
    with django_assert_max_num_queries(12):
        admin_client.get(url)
    for n in range(3, 15):
        publish(customer, title=f"Yaris {n}")
    with django_assert_max_num_queries(12):
        assert admin_client.get(url).status_code == 200


def test_category_cannot_move_below_itself(admin_client, categories):
    vehicles, cars = categories["vehicles"], categories["cars"]
    response = admin_client.post(
        reverse("admin:intents_category_change", args=[vehicles.pk]),
        {"parent": cars.pk, "slug": "vehicles", "name": "Vehicles", "attributes": "[]"},
    )
    assert response.status_code == 200
    assert "cannot be moved below itself" in response.content.decode()
    vehicles.refresh_from_db()
    assert vehicles.parent is None


def test_a_category_with_subcategories_cannot_be_deleted(admin_client, categories):
    vehicles = categories["vehicles"]
    with pytest.raises(ProtectedError):
        vehicles.delete()
    assert Category.objects.filter(slug__in=["vehicles", "cars", "vans"]).count() == 3
    response = admin_client.post(reverse("admin:intents_category_delete", args=[vehicles.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Category.objects.filter(slug="vehicles").exists()


def test_a_leaf_category_can_be_deleted_and_its_parent_keeps_the_rest(categories):
    categories["vans"].delete()
    vehicles = Category.objects.get(slug="vehicles")
    assert [child.slug for child in Category.objects.get_children(vehicles)] == ["cars"]
    assert vehicles.numchild == 1


def test_deciding_a_ring_in_admin_asks_for_a_reason_and_audits_it(admin_client, admin_user, world):
    rating = Rating.objects.get()
    flag = RingFlag.objects.create(vendor=rating.bid.vendor, summary="5 fresh accounts")
    Rating.objects.filter(pk=rating.pk).update(review=Rating.Review.IN_REVIEW, ring=flag)
    url = reverse("admin:reputation_ringflag_changelist")
    asked = admin_client.post(url, {"action": "confirm", ACTION_CHECKBOX_NAME: [flag.pk]})
    assert asked.status_code == 200 and b"Why? (kept in the audit log)" in asked.content
    blank = admin_client.post(url, {"action": "confirm", ACTION_CHECKBOX_NAME: [flag.pk], "apply": "1", "reason": " "})
    assert blank.status_code == 200 and b"This field is required" in blank.content
    flag.refresh_from_db()
    assert flag.status == RingFlag.Status.OPEN
    admin_client.post(url, {"action": "clear", ACTION_CHECKBOX_NAME: [flag.pk], "apply": "1", "reason": "Real club"})
    flag.refresh_from_db()
    rating.refresh_from_db()
    assert flag.status == RingFlag.Status.CLEARED and flag.decided_by == admin_user
    assert rating.review == Rating.Review.CLEARED
    log = AuditLog.objects.get(action="ring.cleared")
    assert log.actor == admin_user and log.detail == {"reason": "Real club", "ratings": 1}
    # Flags are neither added nor deleted by hand.
    assert admin_client.get(reverse("admin:reputation_ringflag_add")).status_code == 403
    assert admin_client.get(reverse("admin:reputation_ringflag_delete", args=[flag.pk])).status_code == 403


def test_moderators_see_stored_scores_with_live_behaviour(admin_client, world):
    bid = Bid.objects.get(intent=world)
    rate(bid=bid, by=Rating.Side.VENDOR, score=5)  # both sides rated: revealed, scores stored
    vendor_page = admin_client.get(reverse("admin:reputation_vendorscore_change", args=[bid.vendor_id]))
    assert vendor_page.status_code == 200
    assert b"deals completed 1, fell through 0" in vendor_page.content
    customer_page = admin_client.get(reverse("admin:reputation_customerscore_change", args=[world.customer_id]))
    assert b"decided 100% of 1 closed requests; deals completed 1" in customer_page.content


def test_an_outbox_events_long_lists_are_shown_shortened(admin_client):
    """A large audience's part carries tens of thousands of vendor ids: its page shows the first
    ten and how many more, and the list of events never reads payloads."""
    event = OutboxEvent.objects.create(
        kind="intent.part", payload={"intent_id": "i-1", "revision": 1, "vendors": list(range(1000, 51000))}
    )
    page = admin_client.get(reverse("admin:broker_outboxevent_change", args=[event.pk]))
    assert page.status_code == 200
    shown = re.search(r"<pre>(.*?)</pre>", page.content.decode(), re.S)
    assert shown is not None
    assert json.loads(html.unescape(shown.group(1))) == {
        "intent_id": "i-1",
        "revision": 1,
        "vendors": [*range(1000, 1010), "… and 49,990 more"],
    }
    listed = admin_client.get(reverse("admin:broker_outboxevent_changelist"))
    assert listed.status_code == 200
    assert listed.context["cl"].queryset.query.deferred_loading == (frozenset({"payload"}), True)
