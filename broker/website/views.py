"""The customer's website. Thin: a form or a selector, a service, a template."""

from __future__ import annotations

import json
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from broker import personal_data
from broker.core.errors import DomainError, NotFound
from broker.website.forms import ChooseForm, EraseForm, IntentForm, MessageForm, RatingForm, RevealForm
from intents import selectors, services
from intents.taxonomy import category_schema
from intents.terms import describe_terms
from reputation.models import Rating
from reputation.selectors import customer_rating_of, vendor_reputations
from reputation.services import rate
from vendors import deal, relationships
from vendors import selectors as vendor_selectors
from vendors.models import Bid, Message
from vendors.threads import post_message

SORTS = {
    "price": lambda row: (row["bid"].amount, row["bid"].created_at),
    "-price": lambda row: (-row["bid"].amount, row["bid"].created_at),
    "reputation": lambda row: (-(row["reputation"]["score"] or 0), -row["reputation"]["ratings"], row["bid"].amount),
    "newest": lambda row: -row["bid"].created_at.timestamp(),
}


def home(request):
    return render(request, "website/home.html")


def _own_intent(request, pk):
    try:
        return selectors.customer_intent(customer=request.user, intent_id=pk)
    except NotFound:
        raise Http404("No such request.") from None


@login_required
def intent_list(request):
    intents = list(selectors.customer_intents(customer=request.user))
    counts = vendor_selectors.active_bid_counts(intent_ids=[intent.pk for intent in intents])
    rows = [{"intent": intent, "active_bids": counts.get(intent.pk, 0)} for intent in intents]
    return render(request, "website/intent_list.html", {"rows": rows})


@login_required
def intent_new(request):
    choose = ChooseForm(request.GET or None)
    if not choose.is_valid():
        return render(request, "website/intent_choose.html", {"form": choose})
    category, country = choose.cleaned_data["category"], choose.cleaned_data["country"]
    form = IntentForm(request.POST or None, category=category, country=country)
    if request.method == "POST" and form.is_valid():
        try:
            intent = services.publish_intent(customer=request.user, **form.publish_arguments())
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
        else:
            messages.success(request, "Your request is out. Vendors who match it will bid here.")
            return redirect("intents:detail", pk=intent.pk)
    return render(request, "website/intent_form.html", {"form": form, "category": category, "country": country})


@login_required
def intent_detail(request, pk):
    return _detail_page(request, pk)


def _detail_page(request, pk, *, reveal_form: RevealForm | None = None):
    intent = _own_intent(request, pk)
    bids = vendor_selectors.intent_bids(intent=intent)
    reputations = vendor_reputations({b.vendor_id for b in bids})
    rows = [{"bid": b, "reputation": reputations[b.vendor_id]} for b in bids]
    sort = request.GET.get("sort", "price")
    rows.sort(key=SORTS.get(sort, SORTS["price"]))
    accepted = next((b for b in bids if b.status == Bid.Status.ACCEPTED), None)
    my_rating = customer_rating_of(bid=accepted) if accepted is not None else None
    reveal = (
        relationships.identity_shared_with(customer=request.user, vendor_id=accepted.vendor_id)
        if accepted is not None
        else None
    )
    if reveal_form is None:
        initial = {"name": request.user.get_full_name(), "email": request.user.email}
        if reveal is not None:
            initial = {"name": reveal.name, "email": reveal.email, "phone": reveal.phone}
        reveal_form = RevealForm(initial=initial)
    return render(
        request,
        "website/intent_detail.html",
        {
            "intent": intent,
            "rows": rows,
            "sort": sort if sort in SORTS else "price",
            "terms": describe_terms(intent.terms),
            "accepted": accepted,
            "my_rating": my_rating,
            "rating_form": RatingForm() if accepted is not None and my_rating is None else None,
            "reveal": reveal,
            "reveal_form": reveal_form,
            "attribute_labels": _attribute_labels(intent),
        },
    )


def _attribute_labels(intent) -> list[tuple[str, str]]:
    labels = {d["name"]: d.get("label") or d["name"] for d in category_schema(intent.category)}
    return [(labels.get(name, name), _show(value)) for name, value in intent.attributes.items()]


def _show(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " or ".join(map(str, value))
    if isinstance(value, dict):
        return f"{value.get('min', '…')} – {value.get('max', '…')}"
    return str(value)


def _act(request, pk, action, success: str):
    _own_intent(request, pk)
    try:
        action()
    except NotFound:
        raise Http404("No such bid.") from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("intents:detail", pk=pk)


@login_required
@require_POST
def bid_accept(request, pk, bid_id):
    return _act(
        request,
        pk,
        lambda: deal.accept_bid(customer=request.user, bid_id=bid_id),
        "Bid accepted. The other vendors have been told, and the request is closed to new bids.",
    )


@login_required
@require_POST
def bid_decline(request, pk, bid_id):
    return _act(request, pk, lambda: deal.decline_bid(customer=request.user, bid_id=bid_id), "Bid declined.")


@login_required
@require_POST
def intent_withdraw(request, pk):
    return _act(
        request,
        pk,
        lambda: deal.withdraw_intent(customer=request.user, intent_id=pk),
        "Request withdrawn. Vendors have been told.",
    )


@login_required
@require_POST
def vendor_block(request, pk, vendor_id):
    intent = _own_intent(request, pk)
    try:
        vendor_selectors.bid_from_vendor(intent=intent, vendor_id=vendor_id)
    except NotFound:
        raise Http404("No such vendor on this request.") from None
    relationships.block_vendor(customer=request.user, vendor_id=vendor_id)
    messages.success(request, "Blocked. None of your requests will reach this vendor again.")
    return redirect("intents:detail", pk=pk)


@login_required
def vendor_thread(request, pk, vendor_id):
    intent = _own_intent(request, pk)
    try:
        bid = vendor_selectors.bid_from_vendor(intent=intent, vendor_id=vendor_id)
    except NotFound:
        raise Http404("No such conversation.") from None
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            post_message(
                intent=intent, vendor=bid.vendor, sender=Message.Sender.CUSTOMER, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error("body", error.message_dict.get("body", error.messages))
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Sent.")
            return redirect("intents:thread", pk=pk, vendor_id=vendor_id)
    return render(
        request,
        "website/thread.html",
        {
            "intent": intent,
            "vendor": bid.vendor,
            "messages_": vendor_selectors.thread(intent=intent, vendor=bid.vendor),
            "form": form,
        },
    )


@login_required
@require_POST
def bid_rate(request, pk, bid_id):
    intent = _own_intent(request, pk)
    try:
        bid = vendor_selectors.intent_bid(intent=intent, bid_id=bid_id)
    except NotFound:
        raise Http404("No such bid.") from None
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a score from 1 to 5.")
    else:
        try:
            rate(bid=bid, by=Rating.Side.CUSTOMER, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Thank you. Ratings are shown once the vendor has rated too, or after 30 days.")
    return redirect("intents:detail", pk=pk)


@login_required
@require_POST
def reveal_identity(request, pk):
    """Tell the vendor whose bid she accepted who she is; errors go back next to the fields."""
    _own_intent(request, pk)
    form = RevealForm(request.POST)
    if form.is_valid():
        try:
            reveal = relationships.reveal_identity(customer=request.user, intent_id=pk, **form.cleaned_data)
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                for message in messages_:
                    form.add_error(field if field in form.fields else None, message)
            form.mark_errors()
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("intents:detail", pk=pk)
        else:
            messages.success(request, f"{reveal.vendor.name} now knows who you are. No other vendor does.")
            return redirect("intents:detail", pk=pk)
    return _detail_page(request, pk, reveal_form=form)


@login_required
def my_data(request):
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        personal_data.erase_customer(customer=user)
        messages.success(request, "Your account and everything about you have been erased.")
        return redirect("intents:home")
    return render(request, "website/my_data.html", {"form": form})


class _Encoder(json.JSONEncoder):
    def default(self, o):
        return str(o) if isinstance(o, Decimal) else super().default(o)


@login_required
def export_json(request):
    data = personal_data.export_customer_data(customer=request.user)
    response = HttpResponse(json.dumps(data, indent=2, cls=_Encoder), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="intentcast-my-data.json"'
    return response


@login_required
def export_zip(request):
    response = HttpResponse(personal_data.export_csv(customer=request.user), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="intentcast-my-data.zip"'
    return response
