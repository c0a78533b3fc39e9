"""Her memory of her relationships: "My vendors" (every vendor she has dealt with, and one page
per vendor with the whole history, her private notes, her ratings, invite, block or unblock),
her notifications with her choice of email per kind, and her reports to the moderators. Thin: a selector or a service, a
template."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from broker.core.errors import Conflict, NotFound
from broker.website.forms import NotificationSettingsForm, ReportForm, VendorNoteForm
from broker.website.paging import page_of
from intents import notifications
from intents import selectors as intent_selectors
from moderation import selectors as moderation_selectors
from moderation import services as moderation_services
from moderation.selectors import customer_bid_or_none, vendor_message_or_none
from reputation.selectors import ratings_she_gave, vendor_reputations
from vendors import relationships
from vendors import selectors as vendor_selectors
from vendors.models import Vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NOTIFICATIONS_SHOWN = 50  # a page


def _customer(request: HttpRequest) -> User:
    return cast("User", request.user)


def _dealt_with(request: HttpRequest, vendor_id: int) -> tuple[Vendor, list[vendor_selectors.RequestHistory]]:
    try:
        return vendor_selectors.dealings_with(customer=_customer(request), vendor_id=vendor_id)
    except NotFound:
        raise Http404("No such vendor among yours.") from None


@login_required
def vendor_list(request: HttpRequest) -> HttpResponse:
    page = page_of(request, vendor_selectors.vendors_dealt_with(customer=_customer(request)))
    reputations = vendor_reputations([row.vendor.pk for row in page])
    return render(
        request,
        "website/vendor_list.html",
        {"rows": [(row, reputations.get(row.vendor.pk)) for row in page], "page": page},
    )


def _vendor_page(request: HttpRequest, vendor_id: int, *, note_form: VendorNoteForm | None = None) -> HttpResponse:
    customer = _customer(request)
    vendor, history = _dealt_with(request, vendor_id)
    ratings = ratings_she_gave(customer=customer, vendor_id=vendor.pk)
    note = relationships.vendor_note(customer=customer, vendor_id=vendor.pk)
    if note_form is None:
        note_form = VendorNoteForm(initial={"body": note.body if note else ""})
    return render(
        request,
        "website/vendor_detail.html",
        {
            "vendor": vendor,
            # each request with her ratings of its deals
            "history": [(entry, [ratings[b.pk] for b in entry.bids if b.pk in ratings]) for entry in history],
            "reputation": vendor_reputations([vendor.pk]).get(vendor.pk),
            "my_ratings": list(ratings.values()),
            "note": note,
            "note_form": note_form,
            "blocked": relationships.has_blocked(customer=customer, vendor_id=vendor.pk),
            "identity": relationships.identity_shared_with(customer=customer, vendor_id=vendor.pk),
            "invite_url": f"{reverse('intents:new')}?invite={vendor.pk}",
        },
    )


@login_required
def vendor_detail(request: HttpRequest, vendor_id: int) -> HttpResponse:
    return _vendor_page(request, vendor_id)


@login_required
@require_POST
def vendor_note(request: HttpRequest, vendor_id: int) -> HttpResponse:
    """Save her private notes about the vendor; errors go back next to the field."""
    _dealt_with(request, vendor_id)
    form = VendorNoteForm(request.POST)
    if form.is_valid():
        try:
            relationships.save_vendor_note(
                customer=_customer(request), vendor_id=vendor_id, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error("body", error.message_dict.get("body", error.messages))
            form.mark_errors()
        else:
            messages.success(request, "Notes saved. Only you can see them.")
            return redirect("intents:vendor", vendor_id=vendor_id)
    return _vendor_page(request, vendor_id, note_form=form)


@login_required
def vendor_block_toggle(request: HttpRequest, vendor_id: int) -> HttpResponse:
    """Block (after a confirmation that says what happens) or unblock a vendor from her list."""
    customer = _customer(request)
    vendor, _history = _dealt_with(request, vendor_id)
    blocked = relationships.has_blocked(customer=customer, vendor_id=vendor.pk)
    if request.method == "POST":
        if blocked:
            relationships.unblock_vendor(customer=customer, vendor_id=vendor.pk)
            messages.success(request, f"Unblocked. Your new requests may reach {vendor.name} again.")
        else:
            relationships.block_vendor(customer=customer, vendor_id=vendor.pk)
            messages.success(request, f"Blocked. None of your requests will reach {vendor.name} again.")
        return redirect("intents:vendor", vendor_id=vendor.pk)
    if blocked:
        title, action, danger = f"Unblock {vendor.name}?", f"Unblock {vendor.name}", False
        consequences = [
            f"Your new requests may reach {vendor.name} again, if they match what it subscribes to.",
            "Requests you posted while it was blocked stay out of its inbox.",
        ]
    else:
        title, action, danger = f"Block {vendor.name}?", f"Block {vendor.name}", True
        consequences = [
            f"None of your requests will reach {vendor.name} again.",
            "Its offers already made stay where they are; you can still decline them.",
            "You can unblock it later from this page.",
        ]
    return render(
        request,
        "website/vendor_confirm.html",
        {"vendor": vendor, "title": title, "consequences": consequences, "action_label": action, "danger": danger},
    )


# Notifications ----------------------------------------------------------------------------


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    page = page_of(request, intent_selectors.customer_notifications(customer=customer), per_page=NOTIFICATIONS_SHOWN)
    return render(
        request,
        "website/notifications.html",
        {
            "items": page.object_list,
            "page": page,
            "unread": intent_selectors.unread_notification_count(customer=customer),
        },
    )


@login_required
@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read and follow its link (to her own pages only)."""
    customer = _customer(request)
    item = intent_selectors.customer_notifications(customer=customer).filter(pk=notification_id).first()
    if item is None:
        raise Http404("No such notification.")
    notifications.mark_read(customer=customer, notification_id=item.pk)
    if item.link and url_has_allowed_host_and_scheme(item.link, allowed_hosts={request.get_host()}):
        return redirect(item.link)
    return redirect("intents:notifications")


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    count = notifications.mark_all_read(customer=_customer(request))
    messages.success(request, "All marked read." if count else "Nothing new.")
    return redirect("intents:notifications")


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    form = NotificationSettingsForm(request.POST or None, choices=notifications.email_choices(customer=customer))
    if request.method == "POST" and form.is_valid():
        notifications.save_email_choices(customer=customer, choices=form.cleaned_data)
        messages.success(request, "Saved. You always see every notification here; emails follow your choices.")
        return redirect("intents:notification_settings")
    return render(request, "website/notification_settings.html", {"form": form})


# Reports -------------------------------------------------------------------------------------

REPORT_SUBJECTS = {"offer", "message", "vendor"}


def _report_subject(customer: User, subject: str, subject_id: str) -> tuple[str, str]:
    """What she is reporting, said in a heading, and where to go back to; 404 if not hers."""
    if subject == "offer":
        bid = customer_bid_or_none(customer=customer, bid_id=subject_id)
        if bid is not None:
            return (
                f"{bid.vendor.name}'s offer on “{bid.intent.title}”",
                reverse("intents:detail", args=[bid.intent_id]),
            )
    elif subject == "message" and subject_id.isdigit():
        message = vendor_message_or_none(customer=customer, message_id=int(subject_id))
        if message is not None:
            return (
                f"{message.vendor.name}'s message of {message.created_at:%-d %b %Y, %H:%M} "
                f"about “{message.intent.title}”",
                reverse("intents:thread", args=[message.intent_id, message.vendor_id]),
            )
    elif subject == "vendor" and subject_id.isdigit():
        try:
            vendor, _history = vendor_selectors.dealings_with(customer=customer, vendor_id=int(subject_id))
        except NotFound:
            pass
        else:
            return vendor.name, reverse("intents:vendor", args=[vendor.pk])
    raise Http404("Nothing of yours to report here.")


@login_required
def report_new(request: HttpRequest, subject: str, subject_id: str) -> HttpResponse:
    """Her report of a vendor's offer, message, or the vendor: the reason as radio buttons and
    her words; errors next to the fields; on success her list of reports."""
    customer = _customer(request)
    if subject not in REPORT_SUBJECTS:
        raise Http404("Report an offer, a message or a vendor.")
    about, back = _report_subject(customer, subject, subject_id)
    form = ReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            moderation_services.file_customer_report(
                customer=customer,
                subject=subject,
                subject_id=subject_id,
                reason=form.cleaned_data["reason"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
            form.mark_errors()
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, "Thank you: your report was sent to our moderators. We will tell you what they decide."
            )
            return redirect("intents:reports")
    status = 400 if request.method == "POST" else 200
    return render(request, "website/report_form.html", {"form": form, "about": about, "back": back}, status=status)


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    """Her reports and the reports about her: where each stands and, once closed, the outcome."""
    return render(
        request,
        "website/report_list.html",
        {"reports": list(moderation_selectors.customer_reports(customer=_customer(request))[:200])},
    )
