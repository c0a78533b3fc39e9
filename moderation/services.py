"""Moderation: reports and their lifecycle, and the moderators' actions that span apps (suspend
or reinstate a vendor). Every moderator's action here requires a reason and writes an audit
entry (``broker.core.audit``) that nobody can edit; removing or releasing a request and hiding a
rating are the owners' services (``vendors.deal.remove_intent``, ``vendors.deal.release_intent``,
``reputation.services.set_hidden``), which require a reason and audit the same way.

Both parties to a report are told of each step: the customer in her notifications (and by email
if she wants that kind), the vendor by a ``report.updated`` event (webhook) and an email to its
contact address. A vendor is never told which customer account reported it: the payload names
only the subject (its own offer or message, or itself). See docs/moderation.md."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from broker.core.audit import record_audit
from broker.core.errors import Conflict, NotFound
from broker.core.mail import email_after_commit
from intents.models import Intent, Notification
from intents.notifications import notify_customer
from moderation.models import MAX_TEXT, Report
from reputation.services import refresh_vendor_and_counterparties
from vendors import services as vendor_services
from vendors.deal import required_reason
from vendors.events import record_vendor_events
from vendors.models import Bid, Delivery, Message, Vendor, VendorEvent
from vendors.selectors import history_vendor_ids

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Status = Report.Status
Subject = Report.Subject
CUSTOMER_SUBJECTS = frozenset({Subject.OFFER, Subject.MESSAGE, Subject.VENDOR})
VENDOR_SUBJECTS = frozenset({Subject.REQUEST, Subject.MESSAGE})
LIVE = frozenset({Status.OPEN, Status.IN_REVIEW, Status.ESCALATED})

# step: (the statuses it may start from, the status it ends in)
REPORT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "review": (frozenset({Status.OPEN}), Status.IN_REVIEW),
    "escalate": (frozenset({Status.OPEN, Status.IN_REVIEW}), Status.ESCALATED),
    "resolve": (LIVE, Status.RESOLVED),
    "dismiss": (LIVE, Status.DISMISSED),
}


class AlreadyReported(Conflict):
    """You already have an open report about this; it is being handled."""

    code = "already_reported"


class ReportClosed(Conflict):
    """The report cannot take this step from where it is (say, it is resolved or dismissed already)."""

    code = "report_closed"


def response_time(reason: str) -> timedelta:
    """How soon moderators are expected to answer a report for ``reason`` (settings,
    ``INTENTCAST["REPORT_RESPONSE_HOURS"]``)."""
    hours: dict[str, float] = settings.INTENTCAST["REPORT_RESPONSE_HOURS"]
    return timedelta(hours=hours.get(reason, hours[Report.Reason.OTHER]))


def _clean(*, reason: Any, text: object) -> str:
    errors = {}
    text = text.strip() if isinstance(text, str) else ""
    if reason not in Report.Reason.values:
        errors["reason"] = "Choose a reason from the list."
    elif reason == Report.Reason.OTHER and not text:
        errors["text"] = "Say what is wrong: you chose “Something else”."
    if len(text) > MAX_TEXT:
        errors["text"] = f"Keep it to {MAX_TEXT:,} characters at most."
    if errors:
        raise ValidationError(errors)
    return text


def _refuse_repeat(**subject: Any) -> None:
    if Report.objects.filter(status__in=LIVE, **subject).exists():
        raise AlreadyReported("You already reported this; moderators are looking at it.")


# Filing ----------------------------------------------------------------------------------


@transaction.atomic
def file_customer_report(*, customer: User, subject: str, subject_id: Any, reason: str, text: str = "") -> Report:
    """She reports a vendor's offer (a bid on her request), a vendor's message to her, or a vendor
    she has dealt with. ``NotFound`` for anything not hers to report."""
    text = _clean(reason=reason, text=text)
    fields: dict[str, Any] = {}
    if subject == Subject.OFFER:
        bid = Bid.objects.select_related("intent", "vendor").filter(pk=subject_id, intent__customer=customer).first()
        if bid is None:
            raise NotFound("No such offer on your requests.")
        fields = {"bid": bid, "intent": bid.intent, "vendor": bid.vendor}
        _refuse_repeat(reported_by=Report.Side.CUSTOMER, bid=bid)
    elif subject == Subject.MESSAGE:
        message = (
            Message.objects.select_related("intent", "vendor")
            .filter(pk=subject_id, intent__customer=customer, sender=Message.Sender.VENDOR)
            .first()
        )
        if message is None:
            raise NotFound("No such message from a vendor to you.")
        fields = {"message": message, "intent": message.intent, "vendor": message.vendor}
        _refuse_repeat(reported_by=Report.Side.CUSTOMER, message=message)
    elif subject == Subject.VENDOR:
        vendor = Vendor.objects.filter(pk=subject_id).first()
        if vendor is None or vendor.pk not in history_vendor_ids(customer_id=customer.pk):
            raise NotFound("No such vendor among yours.")
        fields = {"vendor": vendor}
        _refuse_repeat(reported_by=Report.Side.CUSTOMER, customer=customer, vendor=vendor, subject=Subject.VENDOR)
    else:
        raise ValidationError({"subject": "Report an offer, a message or a vendor."})
    side = Report.Side.CUSTOMER
    return _file(reported_by=side, subject=subject, reason=reason, text=text, customer=customer, **fields)


@transaction.atomic
def file_vendor_report(*, vendor: Vendor, subject: str, subject_id: Any, reason: str, text: str = "") -> Report:
    """A vendor reports a request that reached its inbox, or a customer's message to it.
    ``NotFound`` for anything it was not sent."""
    text = _clean(reason=reason, text=text)
    fields: dict[str, Any]
    if subject == Subject.REQUEST:
        if not re.fullmatch(
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", str(subject_id)
        ):
            raise ValidationError({"id": "Give the request's id (a UUID)."})
        if not Delivery.objects.filter(intent_id=subject_id, vendor=vendor).exists():
            raise NotFound("No such request in your inbox.")
        intent = Intent.objects.select_related("customer").get(pk=subject_id)
        fields = {"intent": intent, "customer": intent.customer}
        _refuse_repeat(reported_by=Report.Side.VENDOR, vendor=vendor, intent=intent, subject=Subject.REQUEST)
    elif subject == Subject.MESSAGE:
        if isinstance(subject_id, bool) or not re.fullmatch(r"[0-9]{1,18}", str(subject_id)):
            raise ValidationError({"id": "Give the message's id (a whole number)."})
        message = (
            Message.objects.select_related("intent__customer")
            .filter(pk=int(subject_id), vendor=vendor, sender=Message.Sender.CUSTOMER)
            .first()
        )
        if message is None:
            raise NotFound("No such message from a customer to you.")
        fields = {"message": message, "intent": message.intent, "customer": message.intent.customer}
        _refuse_repeat(reported_by=Report.Side.VENDOR, message=message)
    else:
        raise ValidationError({"subject": "Report a request or a message."})
    return _file(reported_by=Report.Side.VENDOR, subject=subject, reason=reason, text=text, vendor=vendor, **fields)


def _file(*, reported_by: str, subject: str, reason: str, text: str, **fields: Any) -> Report:
    """Record a report, due within its reason's response time, and tell both parties."""
    report = Report.objects.create(
        reported_by=reported_by,
        subject=subject,
        reason=reason,
        text=text,
        due_at=timezone.now() + response_time(reason),
        **fields,
    )
    _tell_both(report)
    return report


# The lifecycle ---------------------------------------------------------------------------


def _step(*, moderator: User | None, report: Report, step: str, reason: str) -> Report:
    reason = required_reason(reason)
    locked = (
        Report.objects.select_for_update(of=("self",)).select_related("vendor", "intent", "customer").get(pk=report.pk)
    )
    sources, target = REPORT_TRANSITIONS[step]
    if locked.status not in sources:
        raise ReportClosed(f"This report is {locked.get_status_display().lower()}; it cannot be {target} now.")
    now = timezone.now()
    locked.status = target
    locked.handled_by = moderator if getattr(moderator, "pk", None) else None
    if step == "review":
        locked.reviewed_at = now
    elif step == "escalate":
        locked.escalated_at = now
    else:
        locked.outcome = reason
        locked.closed_at = now
    locked.save()
    record_audit(actor=moderator, action=f"report.{target}", target=locked, reason=reason)
    _tell_both(locked)
    return locked


@transaction.atomic
def review_report(*, moderator: User | None, report: Report, reason: str) -> Report:
    """A moderator takes an open report up: open → in review."""
    return _step(moderator=moderator, report=report, step="review", reason=reason)


@transaction.atomic
def escalate_report(*, moderator: User | None, report: Report, reason: str) -> Report:
    """A moderator passes a report on to a senior moderator (open or in review → escalated)."""
    return _step(moderator=moderator, report=report, step="escalate", reason=reason)


@transaction.atomic
def resolve_report(*, moderator: User | None, report: Report, reason: str) -> Report:
    """Closed with action taken; ``reason`` is the outcome both parties are told."""
    return _step(moderator=moderator, report=report, step="resolve", reason=reason)


@transaction.atomic
def dismiss_report(*, moderator: User | None, report: Report, reason: str) -> Report:
    """Closed without action; ``reason`` is the outcome both parties are told."""
    return _step(moderator=moderator, report=report, step="dismiss", reason=reason)


# Telling both parties --------------------------------------------------------------------


def report_for_vendor(report: Report, *, vendor_id: int) -> dict[str, Any]:
    """The vendor's view of a report (its API, its ``report.updated`` event): never the
    customer's account, handle or words when she reported it; only what it is about."""
    reporter = report.reported_by == Report.Side.VENDOR
    subject_id: str | None
    if report.subject == Subject.OFFER:
        subject_id = str(report.bid_id) if report.bid_id else None
    elif report.subject == Subject.MESSAGE:
        subject_id = str(report.message_id) if report.message_id else None
    elif report.subject == Subject.REQUEST:
        subject_id = str(report.intent_id) if report.intent_id else None
    else:
        subject_id = str(vendor_id)
    return {
        "id": str(report.pk),
        "role": "reporter" if reporter else "reported",
        "subject": {"type": report.subject, "id": subject_id},
        "reason": report.reason,
        "text": report.text if reporter else "",
        "status": report.status,
        "outcome": report.outcome if report.is_closed else "",
        "respond_by": report.due_at.isoformat(),
        "created_at": report.created_at.isoformat(),
        "updated_at": report.updated_at.isoformat(),
    }


def _about(report: Report) -> str:
    title = f"“{report.intent.title}”" if report.intent_id and report.intent else ""
    if report.subject == Subject.OFFER:
        return f"{report.vendor.name}'s offer on {title}"
    if report.subject == Subject.MESSAGE:
        if report.reported_by == Report.Side.CUSTOMER:
            return f"{report.vendor.name}'s message about {title}"
        return f"your message about {title}"
    if report.subject == Subject.REQUEST:
        return f"your request {title}"
    return report.vendor.name


STEP_WORDS = {
    Status.OPEN: "was received",
    Status.IN_REVIEW: "is being reviewed by a moderator",
    Status.ESCALATED: "was escalated to a senior moderator",
    Status.RESOLVED: "was resolved",
    Status.DISMISSED: "was dismissed",
}


def _tell_both(report: Report) -> None:
    """Tell the customer (notification, email as she chose) and the vendor (``report.updated``
    and an email) where the report stands, and the outcome once it is closed."""
    step = STEP_WORDS[Status(report.status)]
    outcome = f"\n\nThe moderator's decision: {report.outcome}" if report.is_closed and report.outcome else ""
    customer = report.customer
    if customer is not None:
        if report.reported_by == Report.Side.CUSTOMER:
            text = f"Your report about {_about(report)} {step}"
        else:
            text = f"A report about {_about(report)} {step}"
        intro = (
            ""
            if report.reported_by == Report.Side.CUSTOMER or report.status != Status.OPEN
            else "\n\nA vendor reported it to our moderators. Nothing changes for you unless they decide so; "
            "you will be told what they decide."
        )
        notify_customer(
            customer=customer,
            kind=Notification.Kind.REPORT,
            intent=report.intent,
            text=text,
            subject=text,
            body=f"{text}.{intro}{outcome}\n\nYour reports and reports about you:",
            link=reverse("intents:reports"),
        )
    subject = f"{report.status}:{report.pk}"
    record_vendor_events(
        kind=VendorEvent.Kind.REPORT_UPDATED,
        subject=subject,
        data_by_vendor={report.vendor_id: report_for_vendor(report, vendor_id=report.vendor_id)},
    )
    if report.reported_by == Report.Side.VENDOR:
        what = f"Your report ({report.get_reason_display().lower()}) about a customer's {report.subject}"
    else:
        what = f"A customer's report about your {report.subject if report.subject != Subject.VENDOR else 'business'}"
    email_after_commit(
        to=report.vendor.contact_email,
        subject=f"{what} {step}",
        body=f"{what} {step}.{outcome}\n\nReport {report.pk}: GET /api/v1/reports/{report.pk}/\n",
    )


def forget_customer_reports(*, customer: User) -> int:
    """She is erased: the words of the reports she made go (the reports stay, for the record,
    unlinked from her by the database when her account goes). Returns how many were blanked."""
    return Report.objects.filter(customer=customer, reported_by=Report.Side.CUSTOMER).update(text="")


def overdue_reports(*, now: datetime | None = None) -> Any:
    """Reports still open, in review or escalated past their expected response time."""
    return Report.objects.filter(status__in=LIVE, due_at__lt=now or timezone.now())


# Suspending a vendor ---------------------------------------------------------------------


@transaction.atomic
def suspend_vendor(*, moderator: User | None, vendor: Vendor, reason: str) -> Vendor:
    """Suspend a vendor (``vendors.services.suspend_vendor``: subscriptions paused, active offers
    withdrawn by moderation, customers told, audited) and refresh the reputations its ratings
    touch: they stop counting."""
    vendor = vendor_services.suspend_vendor(vendor=vendor, actor=moderator, reason=reason)
    refresh_vendor_and_counterparties(vendor_id=vendor.pk)
    return vendor


@transaction.atomic
def reinstate_vendor(*, moderator: User | None, vendor: Vendor, reason: str) -> Vendor:
    """Lift a suspension (``vendors.services.reinstate_vendor``: subscriptions resume, audited);
    its ratings count again."""
    vendor = vendor_services.reinstate_vendor(vendor=vendor, actor=moderator, reason=reason)
    refresh_vendor_and_counterparties(vendor_id=vendor.pk)
    return vendor
