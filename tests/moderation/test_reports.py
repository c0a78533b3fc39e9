"""Reports: every way to file one, the grievance lifecycle, who is told what at each step, and
what a vendor never learns about the customer who reported it."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from broker.models import AuditLog
from broker.personal_data import erase_customer, export_customer_data
from intents.models import Notification
from moderation.models import Report
from moderation.services import (
    AlreadyReported,
    ReportClosed,
    dismiss_report,
    escalate_report,
    file_customer_report,
    file_vendor_report,
    overdue_reports,
    resolve_report,
    review_report,
)
from tests.factories import UserFactory, VendorFactory
from vendors.models import VendorEvent

pytestmark = pytest.mark.django_db


def report_events(vendor):
    return [e.payload["data"] for e in VendorEvent.objects.filter(vendor=vendor, kind="report.updated").order_by("id")]


# Filing from the website -------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["offer", "message", "vendor"])
def test_she_reports_from_the_website(her_client, customer, vendor, dealing, subject, settings):
    subject_id = {"offer": dealing["bid"].pk, "message": dealing["from_vendor"].pk, "vendor": vendor.pk}[subject]
    url = reverse("intents:report", args=[subject, subject_id])
    page = her_client.get(url)
    assert page.status_code == 200
    assert b'type="radio"' in page.content and b"Broke our agreement" in page.content
    response = her_client.post(url, {"reason": "broke_agreement", "text": "He asked for more on delivery"})
    assert response.status_code == 302 and response["Location"] == reverse("intents:reports")
    report = Report.objects.get()
    assert (report.reported_by, report.subject, report.customer, report.vendor) == (
        "customer",
        subject,
        customer,
        vendor,
    )
    assert report.status == "open" and report.reason == "broke_agreement"
    hours = settings.INTENTCAST["REPORT_RESPONSE_HOURS"]["broke_agreement"]
    assert abs((report.due_at - report.created_at) - timedelta(hours=hours)) < timedelta(seconds=5)
    listing = her_client.get(reverse("intents:reports"))
    assert b"He asked for more on delivery" in listing.content and b"Open" in listing.content


def test_the_report_links_sit_beside_the_offer_the_message_and_on_the_vendor_page(her_client, vendor, dealing):
    intent = dealing["intent"]
    offers = her_client.get(reverse("intents:detail", args=[intent.pk])).content.decode()
    assert reverse("intents:report", args=["offer", dealing["bid"].pk]) in offers
    thread = her_client.get(reverse("intents:thread", args=[intent.pk, vendor.pk])).content.decode()
    assert reverse("intents:report", args=["message", dealing["from_vendor"].pk]) in thread
    assert reverse("intents:report", args=["message", dealing["from_her"].pk]) not in thread  # not her own
    page = her_client.get(reverse("intents:vendor", args=[vendor.pk])).content.decode()
    assert reverse("intents:report", args=["vendor", vendor.pk]) in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "reason", "Choose what is wrong."),
        ({"reason": "nonsense"}, "reason", "Choose a reason from the list."),
        ({"reason": "other", "text": "  "}, "text", "Say what is wrong"),
        ({"reason": "spam", "text": "x" * 2001}, "text", "Keep it to 2,000 characters at most."),
    ],
)
def test_bad_input_on_the_form_shows_next_to_the_field(her_client, dealing, data, field, message):
    url = reverse("intents:report", args=["offer", dealing["bid"].pk])
    response = her_client.post(url, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert f'id="id_{field}-errors"'.encode() in response.content or f"id_{field}_0-errors".encode() in response.content
    assert not Report.objects.exists()


def test_she_cannot_report_what_is_not_hers(her_client, vendor, dealing):
    other_vendor = VendorFactory()
    for subject, subject_id in [
        ("offer", "00000000-0000-0000-0000-000000000000"),
        ("offer", "not-a-uuid"),
        ("message", dealing["from_her"].pk),  # her own message
        ("message", "abc"),
        ("vendor", other_vendor.pk),  # never dealt with
        ("request", dealing["intent"].pk),  # not a subject she reports
    ]:
        assert her_client.get(reverse("intents:report", args=[subject, subject_id])).status_code == 404
    stranger = UserFactory()
    her_client.force_login(stranger)
    assert her_client.get(reverse("intents:report", args=["offer", dealing["bid"].pk])).status_code == 404


def test_a_second_open_report_of_the_same_thing_is_refused(her_client, dealing):
    url = reverse("intents:report", args=["offer", dealing["bid"].pk])
    her_client.post(url, {"reason": "spam"})
    response = her_client.post(url, {"reason": "spam"})
    assert response.status_code == 400 and b"already reported" in response.content
    assert Report.objects.count() == 1


# Filing through the API --------------------------------------------------------------------


def test_a_vendor_reports_a_request_and_a_message(vendor_client, customer, dealing):
    response = vendor_client.post(
        "/api/v1/reports/",
        {"subject": "request", "id": str(dealing["intent"].pk), "reason": "fraud", "text": "Looks like a scam"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["role"] == "reporter" and body["status"] == "open" and body["text"] == "Looks like a scam"
    assert body["subject"] == {"type": "request", "id": str(dealing["intent"].pk)}
    response = vendor_client.post(
        "/api/v1/reports/",
        {"subject": "message", "id": str(dealing["from_her"].pk), "reason": "abusive"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    reports = Report.objects.filter(reported_by="vendor")
    assert reports.count() == 2 and {r.customer for r in reports} == {customer}
    listed = vendor_client.get("/api/v1/reports/").json()
    assert {r["id"] for r in listed["results"]} == {str(r.pk) for r in reports}
    assert "next" in listed
    one = vendor_client.get(f"/api/v1/reports/{body['id']}/")
    assert one.status_code == 200 and one.json()["id"] == body["id"]
    # she is told a report was made about her request, not which vendor's account made it
    told = Notification.objects.filter(customer=customer, kind="report")
    assert told.count() == 2 and all(n.text.startswith("A report about your") for n in told)


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({}, 400, "subject"),
        ({"subject": "offer", "id": "1", "reason": "spam"}, 400, "subject"),
        ({"subject": "request", "id": "x", "reason": "spam"}, 400, "id"),
        ({"subject": "message", "id": "x", "reason": "spam"}, 400, "id"),
        ({"subject": "request", "id": "00000000-0000-0000-0000-000000000001", "reason": "wrong"}, 400, "reason"),
        ({"subject": "request", "id": "00000000-0000-0000-0000-000000000001", "reason": "other"}, 400, "text"),
        (
            {"subject": "request", "id": "00000000-0000-0000-0000-000000000001", "reason": "spam", "text": "x" * 2001},
            400,
            "text",
        ),
        ({"subject": "request", "id": "00000000-0000-0000-0000-000000000001", "reason": "spam"}, 404, None),
    ],
)
def test_bad_input_to_the_api_answers_in_the_error_format(vendor_client, dealing, data, status, field):
    response = vendor_client.post("/api/v1/reports/", data, format="json")
    assert response.status_code == status, response.json()
    error = response.json()["error"]
    assert error["code"] in ("invalid", "not_found")
    if field:
        assert field in error["fields"]
    assert not Report.objects.exists()


def test_a_vendor_cannot_report_a_message_it_sent_or_a_request_it_never_got(make_vendor_client, dealing, vendor):
    own = make_vendor_client(vendor)
    sent = own.post(
        "/api/v1/reports/",
        {"subject": "message", "id": str(dealing["from_vendor"].pk), "reason": "spam"},
        format="json",
    )
    assert sent.status_code == 404
    stranger = make_vendor_client()
    got = stranger.post(
        "/api/v1/reports/", {"subject": "request", "id": str(dealing["intent"].pk), "reason": "spam"}, format="json"
    )
    assert got.status_code == 404
    assert stranger.get("/api/v1/reports/").json()["results"] == []
    report = file_vendor_report(vendor=vendor, subject="request", subject_id=dealing["intent"].pk, reason="spam")
    assert stranger.get(f"/api/v1/reports/{report.pk}/").status_code == 404
    again = own.post(
        "/api/v1/reports/", {"subject": "request", "id": str(dealing["intent"].pk), "reason": "spam"}, format="json"
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reported"


# The lifecycle -------------------------------------------------------------------------------


def test_the_lifecycle_tells_both_sides_at_each_step(
    customer, vendor, dealing, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = file_customer_report(
            customer=customer, subject="offer", subject_id=dealing["bid"].pk, reason="misleading", text="Not a T3"
        )
        review_report(moderator=moderator, report=report, reason="Looking at the listing")
        escalate_report(moderator=moderator, report=report, reason="Needs a senior look")
        resolve_report(moderator=moderator, report=report, reason="The vendor was warned")
    report.refresh_from_db()
    assert report.status == "resolved" and report.outcome == "The vendor was warned"
    assert report.reviewed_at and report.escalated_at and report.closed_at
    steps = [data["status"] for data in report_events(vendor)]
    assert steps == ["open", "in_review", "escalated", "resolved"]
    assert report_events(vendor)[-1]["outcome"] == "The vendor was warned"
    assert all(data["role"] == "reported" for data in report_events(vendor))
    texts = list(
        Notification.objects.filter(customer=customer, kind="report").order_by("id").values_list("text", flat=True)
    )
    assert len(texts) == 4 and "was received" in texts[0] and "was resolved" in texts[-1]
    to_her = [m for m in mailoutbox if m.to == [customer.email] and "report" in m.subject.lower()]
    to_vendor = [m for m in mailoutbox if m.to == [vendor.contact_email]]
    assert len(to_her) == 4 and "The vendor was warned" in to_her[-1].body
    assert len(to_vendor) == 4 and "The vendor was warned" in to_vendor[-1].body
    assert [a.action for a in AuditLog.objects.filter(target_id=str(report.pk)).order_by("id")] == [
        "report.in_review",
        "report.escalated",
        "report.resolved",
    ]


def test_invalid_transitions_are_refused(customer, dealing, moderator):
    report = file_customer_report(customer=customer, subject="offer", subject_id=dealing["bid"].pk, reason="spam")
    dismiss_report(moderator=moderator, report=report, reason="Nothing wrong with it")
    for step in (review_report, escalate_report, resolve_report, dismiss_report):
        with pytest.raises(ReportClosed):
            step(moderator=moderator, report=report, reason="again")
    report.refresh_from_db()
    assert report.status == "dismissed" and report.outcome == "Nothing wrong with it"
    other = file_customer_report(
        customer=customer, subject="vendor", subject_id=dealing["bid"].vendor_id, reason="spam"
    )
    escalate_report(moderator=moderator, report=other, reason="senior")
    with pytest.raises(ReportClosed):
        review_report(moderator=moderator, report=other, reason="back to review")


def test_every_step_requires_a_reason(customer, dealing, moderator):
    report = file_customer_report(customer=customer, subject="offer", subject_id=dealing["bid"].pk, reason="spam")
    for step in (review_report, escalate_report, resolve_report, dismiss_report):
        with pytest.raises(ValidationError):
            step(moderator=moderator, report=report, reason="   ")
    report.refresh_from_db()
    assert report.status == "open" and not AuditLog.objects.filter(target_id=str(report.pk)).exists()


def test_a_repeat_report_is_refused_while_the_first_is_open(customer, dealing, moderator):
    report = file_customer_report(customer=customer, subject="offer", subject_id=dealing["bid"].pk, reason="spam")
    with pytest.raises(AlreadyReported):
        file_customer_report(customer=customer, subject="offer", subject_id=dealing["bid"].pk, reason="fraud")
    resolve_report(moderator=moderator, report=report, reason="Done")
    file_customer_report(customer=customer, subject="offer", subject_id=dealing["bid"].pk, reason="fraud")


def test_overdue_reports(customer, dealing, moderator, admin_client):
    report = file_customer_report(customer=customer, subject="offer", subject_id=dealing["bid"].pk, reason="fraud")
    assert list(overdue_reports()) == []
    later = timezone.now() + timedelta(hours=25)
    assert list(overdue_reports(now=later)) == [report]
    Report.objects.filter(pk=report.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    listing = admin_client.get(reverse("admin:moderation_report_changelist"), {"overdue": "yes"})
    assert listing.status_code == 200 and list(listing.context["cl"].queryset) == [report]
    resolve_report(moderator=moderator, report=report, reason="Done")
    assert list(overdue_reports()) == []


# Privacy -------------------------------------------------------------------------------------


def test_a_vendor_never_learns_who_reported_it(customer, vendor, dealing, make_vendor_client, moderator):
    customer.first_name, customer.last_name = "Alice", "Liddell"
    customer.save()
    report = file_customer_report(
        customer=customer,
        subject="message",
        subject_id=dealing["from_vendor"].pk,
        reason="abusive",
        text="My name is Alice Liddell and he was rude",
    )
    resolve_report(moderator=moderator, report=report, reason="Warned")
    client = make_vendor_client(vendor)
    seen = [
        json.dumps(client.get("/api/v1/reports/").json()),
        json.dumps(client.get(f"/api/v1/reports/{report.pk}/").json()),
        *[json.dumps(e.payload) for e in VendorEvent.objects.filter(vendor=vendor, kind="report.updated")],
    ]
    for text in seen:
        assert customer.email not in text and "alice" not in text.lower() and "Liddell" not in text
        assert str(customer.pk) not in json.loads(text).get("customer", "")
    data = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert data["role"] == "reported" and data["text"] == "" and data["outcome"] == "Warned"
    assert set(data) == {
        "id",
        "role",
        "subject",
        "reason",
        "text",
        "status",
        "outcome",
        "respond_by",
        "created_at",
        "updated_at",
    }


def test_a_suspended_vendor_still_sees_its_reports(vendor_client, vendor, customer, dealing, moderator):
    report = file_customer_report(customer=customer, subject="vendor", subject_id=vendor.pk, reason="fraud")
    vendor.status = "suspended"
    vendor.save()
    assert vendor_client.get(f"/api/v1/reports/{report.pk}/").status_code == 200
    refused = vendor_client.post(
        "/api/v1/reports/", {"subject": "request", "id": str(dealing["intent"].pk), "reason": "spam"}, format="json"
    )
    assert refused.status_code == 403


def test_her_reports_are_in_her_export_and_her_words_go_with_her(customer, vendor, dealing):
    report = file_customer_report(
        customer=customer, subject="offer", subject_id=dealing["bid"].pk, reason="fraud", text="My phone is 0777"
    )
    exported = export_customer_data(customer=customer)["reports"]
    assert exported[0]["id"] == str(report.pk) and exported[0]["text"] == "My phone is 0777"
    erase_customer(customer=customer)
    report.refresh_from_db()
    assert report.customer is None and report.text == "" and report.intent is None and report.bid is None
