"""Her memory of her relationships: "My vendors" (every vendor she has dealt with, and one page
per vendor with the whole history, her private notes, her ratings, invite, block or unblock),
and her notifications with her choice of email per kind. Thin: a selector or a service, a
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

from broker.core.errors import NotFound
from broker.website.forms import NotificationSettingsForm, VendorNoteForm
from broker.website.paging import page_of
from intents import notifications
from intents import selectors as intent_selectors
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
