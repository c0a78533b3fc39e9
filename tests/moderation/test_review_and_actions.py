"""Review before casting, and the moderators' actions: each requires a reason, writes an audit
entry nobody can edit, and tells the other side."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from broker.core.errors import Conflict, IntentClosed
from broker.models import AuditLog, AuditLogImmutable, OutboxEvent
from intents.models import Intent, Notification, ReviewRule
from moderation.models import Report
from moderation.services import file_customer_report, reinstate_vendor, suspend_vendor
from reputation.models import Rating
from reputation.services import set_hidden
from vendors.deal import expire_intents, release_intent, remove_intent
from vendors.models import Bid, Delivery, Subscription, Vendor, VendorEvent

pytestmark = pytest.mark.django_db


def published(intent):
    return OutboxEvent.objects.filter(kind="intent.published", payload__intent_id=str(intent.pk)).exists()


# Review before casting -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "data"),
    [
        ({"kind": "word", "text": "replica"}, {"title": "Replica Rolex watch"}),
        ({"kind": "pattern", "text": r"\b\d{5}\s*cash\b"}, {"details": "I pay 12000 cash, no questions"}),
        ({"kind": "first_requests", "count": 2}, {}),
        ({"kind": "budget_above", "amount": Decimal("3000"), "currency": "GBP"}, {"budget_max": Decimal("3500")}),
    ],
)
def test_each_kind_of_rule_holds_a_request_and_nothing_reaches_vendors(
    customer, vendor, publish, subscribe, rule, data
):
    subscribe(vendor)
    ReviewRule.objects.create(**rule)
    intent = publish(customer, **data)
    assert intent.status == Intent.Status.IN_REVIEW and intent.get_status_display() == "In review"
    assert intent.held_because
    assert not published(intent)
    assert not Delivery.objects.filter(intent=intent).exists()
    assert not VendorEvent.objects.filter(vendor=vendor).exists()


def test_rules_that_do_not_apply_let_it_through(customer, vendor, publish, subscribe):
    subscribe(vendor)
    ReviewRule.objects.create(kind="word", text="replica")  # "replicas" is not the word
    ReviewRule.objects.create(kind="word", text="rolex", active=False)
    ReviewRule.objects.create(kind="budget_above", amount=Decimal("3000"), currency="EUR")  # another currency
    ReviewRule.objects.create(kind="first_requests", count=1)
    publish(customer)  # her first: held
    intent = publish(customer, title="Rolex replicas wanted", budget_max=Decimal("9000"))
    assert intent.status == Intent.Status.OPEN and published(intent)
    assert Delivery.objects.filter(intent=intent, vendor=vendor).exists()


def test_release_casts_it_as_normal_and_tells_her(
    customer, vendor, publish, subscribe, admin_user, django_capture_on_commit_callbacks
):
    subscribe(vendor)
    ReviewRule.objects.create(kind="first_requests", count=1)
    intent = publish(customer)
    with pytest.raises(ValidationError):
        release_intent(moderator=admin_user, intent=intent, reason="")
    with django_capture_on_commit_callbacks(execute=True):
        release_intent(moderator=admin_user, intent=intent, reason="Looks genuine")
    intent.refresh_from_db()
    assert intent.status == Intent.Status.OPEN and published(intent)
    assert Delivery.objects.filter(intent=intent, vendor=vendor).exists()
    assert VendorEvent.objects.filter(vendor=vendor, kind="intent.matched", subject=str(intent.pk)).exists()
    assert Notification.objects.filter(customer=customer, intent=intent, kind="moderation").exists()
    assert AuditLog.objects.get(action="intent.released").detail == {"reason": "Looks genuine"}
    with pytest.raises(IntentClosed):
        release_intent(moderator=admin_user, intent=intent, reason="again")


def test_removing_a_held_request_tells_her_and_no_vendor(
    customer, vendor, publish, subscribe, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    subscribe(vendor)
    ReviewRule.objects.create(kind="word", text="replica")
    intent = publish(customer, title="Replica watch")
    with django_capture_on_commit_callbacks(execute=True):
        remove_intent(moderator=admin_user, intent=intent, reason="Counterfeit goods are not allowed")
    intent.refresh_from_db()
    assert intent.status == Intent.Status.REMOVED and intent.closed_at is not None
    assert not VendorEvent.objects.filter(vendor=vendor).exists()
    assert any("Counterfeit goods are not allowed" in m.body for m in mailoutbox if m.to == [customer.email])
    assert not published(intent)


def test_she_sees_in_review_on_her_request_page_and_list_and_may_withdraw(client, customer, publish):
    ReviewRule.objects.create(kind="first_requests", count=1)
    intent = publish(customer)
    client.force_login(customer)
    page = client.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert "In review" in page and "not sent to vendors yet" in page
    assert "In review" in client.get(reverse("intents:list")).content.decode()
    withdraw = reverse("intents:withdraw", args=[intent.pk])
    assert client.get(withdraw).status_code == 200
    assert client.post(withdraw, {"reason": "no_longer_needed"}).status_code == 302
    intent.refresh_from_db()
    assert intent.status == Intent.Status.WITHDRAWN
    assert not published(intent)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "word", "text": ""}, "text"),
        ({"kind": "word", "text": "a|b"}, "text"),
        ({"kind": "pattern", "text": "(unclosed"}, "text"),
        ({"kind": "first_requests", "count": ""}, "count"),
        ({"kind": "budget_above", "amount": "", "currency": "GBP"}, "amount"),
        ({"kind": "budget_above", "amount": "100", "currency": "ZZZ"}, "currency"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_in_admin(admin_client, data, field):
    response = admin_client.post(reverse("admin:intents_reviewrule_add"), {"active": "on", "note": "", **data})
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not ReviewRule.objects.exists()


def test_a_rule_is_added_in_admin(admin_client):
    response = admin_client.post(
        reverse("admin:intents_reviewrule_add"),
        {"kind": "budget_above", "amount": "50000", "currency": "GBP", "active": "on", "note": "Very high budgets"},
    )
    assert response.status_code == 302
    assert str(ReviewRule.objects.get()) == "Budget above 50000.00 GBP"


# Suspending and reinstating a vendor ---------------------------------------------------------


def test_suspension_pauses_withdraws_tells_and_audits(
    customer, vendor, publish, subscribe, admin_user, django_capture_on_commit_callbacks
):
    own_pause = subscribe(vendor, name="paused by the vendor", active=False)
    live = subscribe(vendor, name="live")
    intent = publish(customer)
    bid = Bid.objects.create(intent=intent, vendor=vendor, amount=3500, currency="GBP", terms_accepted=intent.terms)
    with pytest.raises(ValidationError):
        suspend_vendor(moderator=admin_user, vendor=vendor, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        suspend_vendor(moderator=admin_user, vendor=vendor, reason="Fake offers")
    vendor.refresh_from_db()
    bid.refresh_from_db()
    assert vendor.status == Vendor.Status.SUSPENDED
    assert bid.status == Bid.Status.WITHDRAWN_BY_MODERATION
    assert not Subscription.objects.get(pk=live.pk).active and not Subscription.objects.get(pk=own_pause.pk).active
    told = Notification.objects.get(customer=customer, kind="moderation")
    assert vendor.name in told.text and "withdrawn" in told.text
    log = AuditLog.objects.get(action="vendor.suspended")
    assert (
        log.actor == admin_user
        and log.detail["reason"] == "Fake offers"
        and log.detail["offers_withdrawn"] == [str(bid.pk)]
    )
    with pytest.raises(Conflict):
        suspend_vendor(moderator=admin_user, vendor=vendor, reason="again")
    reinstate_vendor(moderator=admin_user, vendor=vendor, reason="Appeal upheld")
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.APPROVED
    assert Subscription.objects.get(pk=live.pk).active  # resumed
    assert not Subscription.objects.get(pk=own_pause.pk).active  # the vendor's own pause stands
    assert AuditLog.objects.get(action="vendor.reinstated").detail["reason"] == "Appeal upheld"
    with pytest.raises(Conflict):
        reinstate_vendor(moderator=admin_user, vendor=vendor, reason="again")


def test_removal_tells_vendors_with_reason_moderation(
    customer, vendor, publish, subscribe, admin_user, django_capture_on_commit_callbacks
):
    subscribe(vendor)
    intent = publish(customer)
    with pytest.raises(ValidationError):
        remove_intent(moderator=admin_user, intent=intent, reason="")
    intent.refresh_from_db()
    assert intent.status == Intent.Status.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        remove_intent(moderator=admin_user, intent=intent, reason="Prohibited item")
    event = VendorEvent.objects.get(vendor=vendor, kind="intent.withdrawn")
    assert event.payload["data"]["withdrawn_reason"] == "moderation"
    assert "Prohibited item" not in str(event.payload)  # the moderator's words are hers


def test_hiding_a_rating_requires_a_reason(admin_user, rated_bid):
    rating = Rating.objects.filter(bid=rated_bid).first()
    with pytest.raises(ValidationError):
        set_hidden(rating=rating, hidden=True, moderator=admin_user, reason="")
    set_hidden(rating=rating, hidden=True, moderator=admin_user, reason="Slur")
    assert AuditLog.objects.get(action="rating.hidden").detail == {"reason": "Slur"}


# The audit log and admin -----------------------------------------------------------------------


def test_the_audit_log_cannot_be_changed_or_deleted(admin_user, admin_client):
    log = AuditLog.objects.create(
        actor=admin_user, action="vendor.suspended", target_type="vendors.vendor", target_id="1"
    )
    log.action = "vendor.approved"
    with pytest.raises(AuditLogImmutable):
        log.save()
    with pytest.raises(AuditLogImmutable):
        log.delete()
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.filter(pk=log.pk).update(action="x")
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.filter(pk=log.pk).delete()
    assert AuditLog.objects.get(pk=log.pk).action == "vendor.suspended"
    change = reverse("admin:broker_auditlog_change", args=[log.pk])
    assert admin_client.post(change, {"action": "x"}).status_code == 403
    assert admin_client.post(reverse("admin:broker_auditlog_delete", args=[log.pk]), {"post": "yes"}).status_code == 403
    listing = admin_client.get(reverse("admin:broker_auditlog_changelist"))
    assert listing.status_code == 200 and b"delete_selected" not in listing.content


def test_requests_are_read_only_in_admin_and_cannot_be_deleted(admin_client, customer, publish):
    intent = publish(customer)
    change = reverse("admin:intents_intent_change", args=[intent.pk])
    assert admin_client.get(change).status_code == 200  # shown
    response = admin_client.post(change, {"title": "Edited by a moderator", "status": "removed"})
    assert response.status_code == 403
    assert (
        admin_client.post(reverse("admin:intents_intent_delete", args=[intent.pk]), {"post": "yes"}).status_code == 403
    )
    listing = admin_client.get(reverse("admin:intents_intent_changelist"))
    choices = [name for name, _ in listing.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in choices and "remove_requests" in choices and "release_requests" in choices
    admin_client.post(
        reverse("admin:intents_intent_changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [intent.pk], "post": "yes"},
    )
    intent.refresh_from_db()
    assert intent.title != "Edited by a moderator" and intent.status == Intent.Status.OPEN


@pytest.mark.parametrize(
    ("url_name", "action", "make"),
    [
        ("admin:intents_intent_changelist", "release_requests", "held"),
        ("admin:intents_intent_changelist", "remove_requests", "open"),
        ("admin:vendors_vendor_changelist", "suspend", "vendor"),
        ("admin:vendors_vendor_changelist", "reinstate", "suspended"),
        ("admin:moderation_report_changelist", "review", "report"),
        ("admin:moderation_report_changelist", "escalate", "report"),
        ("admin:moderation_report_changelist", "resolve", "report"),
        ("admin:moderation_report_changelist", "dismiss", "report"),
    ],
)
def test_every_bulk_action_asks_for_a_reason_first(
    admin_client, customer, vendor, publish, subscribe, url_name, action, make
):
    subscribe(vendor)
    if make == "held":
        ReviewRule.objects.create(kind="first_requests", count=5)
        obj = publish(customer)
    elif make == "open":
        obj = publish(customer)
    elif make == "vendor":
        obj = vendor
    elif make == "suspended":
        Vendor.objects.filter(pk=vendor.pk).update(status=Vendor.Status.SUSPENDED)
        obj = vendor
    else:
        publish(customer)
        obj = file_customer_report(customer=customer, subject="vendor", subject_id=vendor.pk, reason="spam")
    before = AuditLog.objects.count()
    url = reverse(url_name)
    asked = admin_client.post(url, {"action": action, ACTION_CHECKBOX_NAME: [obj.pk]})
    assert asked.status_code == 200 and b"Why? (kept in the audit log)" in asked.content
    blank = admin_client.post(url, {"action": action, ACTION_CHECKBOX_NAME: [obj.pk], "apply": "1", "reason": ""})
    assert blank.status_code == 200 and b"This field is required" in blank.content
    assert AuditLog.objects.count() == before  # nothing done without a reason
    done = admin_client.post(url, {"action": action, ACTION_CHECKBOX_NAME: [obj.pk], "apply": "1", "reason": "Because"})
    assert done.status_code == 302
    entry = AuditLog.objects.filter(target_id=str(obj.pk)).order_by("-id").first()
    assert entry is not None and entry.detail["reason"] == "Because"


def test_a_held_request_nobody_reviewed_expires_without_reaching_vendors(customer, vendor, publish, subscribe):
    subscribe(vendor)
    ReviewRule.objects.create(kind="first_requests", count=1)
    intent = publish(customer)
    Intent.objects.filter(pk=intent.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert expire_intents() == 1
    intent.refresh_from_db()
    assert intent.status == Intent.Status.EXPIRED and not published(intent)
    assert not VendorEvent.objects.filter(vendor=vendor).exists()


def test_the_overview_page(admin_client, client, customer, vendor, publish, subscribe):
    subscribe(vendor)
    intent = publish(customer)
    bid = Bid.objects.create(intent=intent, vendor=vendor, amount=3500, currency="GBP", terms_accepted=intent.terms)
    report = file_customer_report(customer=customer, subject="offer", subject_id=bid.pk, reason="fraud")
    Report.objects.filter(pk=report.pk).update(due_at=timezone.now() - timedelta(hours=1))
    ReviewRule.objects.create(kind="word", text="replica")
    publish(customer, title="Replica wheels")
    page = admin_client.get(reverse("admin-overview"))
    assert page.status_code == 200
    today = page.context["days"][-1]
    assert (today.requests, today.deliveries, today.offers) == (2, 1, 1)
    assert page.context["overdue"] == 1 and page.context["held_count"] == 1
    assert b"Replica wheels" in page.content and b"1 overdue" in page.content
    assert b"Overview" in admin_client.get(reverse("admin:index")).content
    client.force_login(customer)  # not staff
    assert client.get(reverse("admin-overview")).status_code == 302


def test_the_database_refuses_to_change_or_delete_audit_entries_but_lets_an_actor_go(admin_user):
    log = AuditLog.objects.create(
        actor=admin_user, action="vendor.suspended", target_type="vendors.vendor", target_id="1"
    )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE broker_auditlog SET detail = '{}' WHERE id = %s", [log.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM broker_auditlog WHERE id = %s", [log.pk])
    admin_user.delete()  # an erased moderator: the entry stays, without its actor
    log = AuditLog.objects.get(pk=log.pk)
    assert log.actor is None and log.action == "vendor.suspended"
