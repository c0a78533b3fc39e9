"""The vendor's daily work on the website: its subscriptions and its inbox. The same services as
the API (``vendors.services``, ``vendors.deal``, ``vendors.agreements``, ``vendors.threads``) and
the same view of a request (``broker.pipeline.vendor_view``): a vendor without developers works
here exactly as one with an integration works through the API."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from broker.core.errors import Conflict, DomainError, NotFound
from broker.pipeline.matching import PREVIEW_DAYS, preview_subscription
from broker.pipeline.vendor_view import intents_for_vendor
from broker.vendor_site.access import vendor_area
from broker.vendor_site.views import page
from broker.vendor_site.work_forms import (
    InboxFilterForm,
    MessageForm,
    OfferForm,
    OutcomeForm,
    PassForm,
    PhotoForm,
    SubscriptionForm,
    TermsAnswerForm,
    subscription_initial,
)
from intents.comparison import describe_attributes, format_value, label_of
from intents.models import Category, Intent
from intents.taxonomy import category_schema
from reputation.selectors import vendor_reputation
from vendors import agreements, deal, photos, selectors, services, threads
from vendors.models import Bid, DealOutcome, Message, Subscription
from vendors.relationships import handles_for_vendor

INBOX_PAGE = 25
OFFERS_PAGE = 50


# Subscriptions -------------------------------------------------------------------------------


@vendor_area()
def subscription_list(request: HttpRequest) -> HttpResponse:
    subscriptions = Subscription.objects.filter(vendor=request.vendor).prefetch_related(  # type: ignore[attr-defined]
        "categories", "regions"
    )
    return page(
        request,
        "subscriptions.html",
        {"subscriptions": subscriptions},
        current="vendor_site:subscriptions",
    )


def _own_subscription(request: HttpRequest, subscription_id: UUID) -> Subscription:
    return get_object_or_404(Subscription, pk=subscription_id, vendor=request.vendor)  # type: ignore[attr-defined]


@vendor_area()
def subscription_edit(request: HttpRequest, subscription_id: UUID | None = None) -> HttpResponse:
    """Create or change a subscription. Three buttons post the form: "Save", "Preview" (how many
    of the last 30 days' requests it would have matched; nothing saved) and "Find regions" /
    "Show filters" (the form again with the regions found and the chosen categories' filters)."""
    vendor = request.vendor  # type: ignore[attr-defined]
    subscription = _own_subscription(request, subscription_id) if subscription_id else None
    initial = subscription_initial(subscription) if subscription else {}
    form = SubscriptionForm(request.POST or None, initial=initial, subscription=subscription)
    preview: int | None = None
    action = request.POST.get("action", "save")
    if request.method == "POST" and action in ("save", "preview") and form.is_valid():
        data = form.subscription_data()
        try:
            with transaction.atomic():
                if action == "save":
                    saved = services.save_subscription(vendor=vendor, subscription=subscription, **data)
                else:
                    cleaned = services.clean_subscription(data)
                    preview = _preview(cleaned)
        except ValidationError as error:
            form.add_subscription_errors(error)
        else:
            if action == "save":
                messages.success(request, f"Subscription “{saved}” is saved.")
                return redirect("vendor_site:subscriptions")
    elif request.method == "POST" and action not in ("save", "preview"):
        form.as_typed()
    elif request.method == "GET" and subscription is not None:
        preview = _preview(
            {
                "categories": initial["categories"],
                "regions": initial["regions"],
                "keywords": subscription.keywords,
                "language": subscription.language,
                "attribute_filters": subscription.attribute_filters,
                "min_budget": subscription.min_budget,
                "min_budget_currency": subscription.min_budget_currency,
            }
        )
    return page(
        request,
        "subscription_form.html",
        {"form": form, "subscription": subscription, "preview": preview, "preview_days": PREVIEW_DAYS},
        current="vendor_site:subscriptions",
        status=400 if form.errors else 200,
    )


def _preview(data: dict[str, Any]) -> int:
    return preview_subscription(
        categories=data["categories"],
        regions=data["regions"],
        keywords=data.get("keywords") or [],
        language=data.get("language") or "en",
        attribute_filters=data.get("attribute_filters") or {},
        min_budget=data.get("min_budget"),
        min_budget_currency=data.get("min_budget_currency") or "",
    )


@require_POST
@vendor_area()
def subscription_toggle(request: HttpRequest, subscription_id: UUID) -> HttpResponse:
    """Pause a subscription (no request reaches the vendor through it) or resume it."""
    subscription = _own_subscription(request, subscription_id)
    services.save_subscription(vendor=request.vendor, subscription=subscription, active=not subscription.active)  # type: ignore[attr-defined]
    state = "resumed" if subscription.active else "paused"
    messages.success(request, f"Subscription “{subscription}” is {state}.")
    return redirect("vendor_site:subscriptions")


@vendor_area()
def subscription_delete(request: HttpRequest, subscription_id: UUID) -> HttpResponse:
    subscription = _own_subscription(request, subscription_id)
    if request.method == "POST":
        name = str(subscription)
        services.delete_subscription(subscription=subscription)
        messages.success(request, f"Subscription “{name}” is deleted; the requests it brought stay in your inbox.")
        return redirect("vendor_site:subscriptions")
    return page(
        request, "subscription_delete.html", {"subscription": subscription}, current="vendor_site:subscriptions"
    )


# The inbox -----------------------------------------------------------------------------------


@vendor_area()
def inbox(request: HttpRequest) -> HttpResponse:
    """The requests delivered to the vendor, newest first, filtered and paginated. The first page
    polls itself (htmx) so new requests appear without a reload; a reload does the same."""
    vendor = request.vendor  # type: ignore[attr-defined]
    filters = InboxFilterForm(request.GET or None)
    deliveries = selectors.vendor_inbox(vendor=vendor)
    if filters.is_bound and filters.is_valid():
        data = filters.cleaned_data
        category = Category.objects.filter(pk=data["category"]).first() if data["category"] else None
        since = datetime.combine(data["since"], time.min, tzinfo=UTC) if data["since"] else None
        deliveries = selectors.vendor_inbox(
            vendor=vendor, status=data["status"] or None, category=category, since=since
        )
        if data["passed"]:
            deliveries = deliveries.filter(passed_at__isnull=data["passed"] == "no")
    paginator = Paginator(deliveries, INBOX_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    deliveries_shown = list(page_obj.object_list)
    views = intents_for_vendor(vendor_id=vendor.pk, intents=[d.intent for d in deliveries_shown])
    rows = [
        {"delivery": delivery, "view": view, "intent": delivery.intent}
        for delivery, view in zip(deliveries_shown, views, strict=True)
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return page(
        request,
        "inbox.html",
        {
            "filters": filters,
            "rows": rows,
            "page_obj": page_obj,
            "query": query.urlencode(),
            "live": page_obj.number == 1,
            "reputation": vendor_reputation(vendor.pk),
        },
        current="vendor_site:inbox",
        status=400 if filters.errors else 200,
    )


def _delivered(request: HttpRequest, intent_id: UUID) -> Intent:
    try:
        return selectors.delivered_intent(vendor=request.vendor, intent_id=intent_id)  # type: ignore[attr-defined]
    except NotFound:
        raise Http404("No such request in your inbox.") from None


def _request_page(request: HttpRequest, intent: Intent, forms: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """A request as the vendor sees it: exactly the API's view (``intents_for_vendor``), its
    attributes and budget for people, its thread, its own offer and what became of it."""
    vendor = request.vendor  # type: ignore[attr-defined]
    view = intents_for_vendor(vendor_id=vendor.pk, intents=[intent])[0]
    handle = view["customer"]["handle"]
    bid = selectors.latest_bids(vendor_ids=[vendor.pk], intent_ids=[intent.pk]).get((vendor.pk, intent.pk))
    answer, record = selectors.vendor_answer(vendor=vendor, intent=intent)
    outcome = selectors.outcome_of(bid=bid, side=DealOutcome.Side.VENDOR) if bid else None
    delivery = selectors.vendor_inbox(vendor=vendor).filter(intent=intent).first()
    schema = category_schema(intent.category)
    offer_initial: dict[str, Any] = {}
    if bid is not None:
        offer_initial = {"amount": bid.amount, "currency": bid.currency, "message": bid.message}
        offer_initial.update({f"offer_{k}": v for k, v in (bid.offered_attributes or {}).items()})
    context = {
        "intent": intent,
        "view": view,
        "handle": handle,
        "attributes": describe_attributes(schema, intent.attributes, country=intent.region.code),
        "offered": offered_labels(schema, bid.offered_attributes, country=intent.region.code) if bid else [],
        "revised": bid is not None and bid.revisions.exists(),
        "bid": bid,
        "answer": answer,
        "record": record,
        "outcome": outcome,
        "delivery": delivery,
        "thread": list(selectors.thread(intent=intent, vendor=vendor)),
        "can_offer": intent.is_open and not (delivery and delivery.withdrawn_at),
        "offer_form": forms.get("offer") or OfferForm(intent=intent, initial=offer_initial),
        "pass_form": forms.get("pass") or PassForm(),
        "photo_form": forms.get("photo") or PhotoForm(),
        "message_form": forms.get("message") or MessageForm(),
        "terms_form": forms.get("terms") or TermsAnswerForm(),
        "outcome_form": forms.get("outcome") or OutcomeForm(),
    }
    return page(request, "request_detail.html", context, current="vendor_site:inbox", status=status)


def offered_labels(schema: list[dict], offered: dict[str, Any], *, country: str) -> list[tuple[str, str]]:
    """What an offer says of each attribute, for people: ("Mileage", "38,000 mi")."""
    return [
        (label_of(d), format_value(d, offered[d["name"]], country=country))
        for d in schema
        if offered.get(d["name"]) not in (None, "", [])
    ]


@vendor_area()
def request_detail(request: HttpRequest, intent_id: UUID) -> HttpResponse:
    """One request; opening it marks it seen, as the API's GET does."""
    intent = _delivered(request, intent_id)
    services.mark_seen(vendor=request.vendor, intent_id=intent.pk)  # type: ignore[attr-defined]
    return _request_page(request, intent, {})


def _refused(request: HttpRequest, intent: Intent, error: DomainError) -> HttpResponse:
    messages.error(request, error.message)
    return redirect("vendor_site:request", intent_id=intent.pk)


@require_POST
@vendor_area()
def request_offer(request: HttpRequest, intent_id: UUID) -> HttpResponse:
    """Make an offer, or revise the active one: ``place_bid`` / ``revise_bid``, as the API's POST
    and PATCH of /bids/."""
    vendor = request.vendor  # type: ignore[attr-defined]
    intent = _delivered(request, intent_id)
    form = OfferForm(request.POST, intent=intent)
    if form.is_valid():
        fields = {
            "amount": form.cleaned_data["amount"],
            "currency": form.cleaned_data["currency"],
            "message": form.cleaned_data["message"],
            "offered_attributes": form.offered_attributes(),
        }
        active = selectors.vendor_bids(vendor=vendor).filter(intent=intent, status=Bid.Status.ACTIVE).first()
        try:
            with transaction.atomic():
                if active is not None:
                    services.revise_bid(bid=active, **fields)
                else:
                    services.place_bid(vendor=vendor, intent_id=intent.pk, **fields)
        except ValidationError as error:
            form.add_offer_errors(error)
        except (Conflict, NotFound) as error:
            return _refused(request, intent, error)
        else:
            messages.success(request, "Your offer is revised." if active else "Your offer is sent: she sees it now.")
            return redirect("vendor_site:request", intent_id=intent.pk)
    return _request_page(request, intent, {"offer": form}, status=400)


@require_POST
@vendor_area()
def request_withdraw(request: HttpRequest, intent_id: UUID) -> HttpResponse:
    vendor = request.vendor  # type: ignore[attr-defined]
    intent = _delivered(request, intent_id)
    bid = _active_bid(request, intent)
    try:
        deal.withdraw_bid(vendor=vendor, bid=bid)
    except DomainError as error:
        return _refused(request, intent, error)
    messages.success(request, "Your offer is withdrawn.")
    return redirect("vendor_site:request", intent_id=intent.pk)


def _active_bid(request: HttpRequest, intent: Intent) -> Bid:
    bid = selectors.vendor_bids(vendor=request.vendor).filter(intent=intent, status=Bid.Status.ACTIVE).first()  # type: ignore[attr-defined]
    if bid is None:
        raise Http404("No active offer on this request.")
    return bid


@require_POST
@vendor_area()
def request_photo(request: HttpRequest, intent_id: UUID) -> HttpResponse:
    """Add a photo to the active offer (``vendors.photos.add_photo``, as the API's upload)."""
    intent = _delivered(request, intent_id)
    bid = _active_bid(request, intent)
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            photos.add_photo(vendor=request.vendor, bid=bid, upload=form.cleaned_data["photo"])  # type: ignore[attr-defined]
        except ValidationError as error:
            form.add_service_errors(error)
        except DomainError as error:
            return _refused(request, intent, error)
        else:
            messages.success(request, "The photo is added to your offer.")
            return redirect(reverse("vendor_site:request", args=[intent.pk]) + "#offer")
    return _request_page(request, intent, {"photo": form}, status=400)


@require_POST
@vendor_area()
def request_photo_remove(request: HttpRequest, intent_id: UUID, photo_id: UUID) -> HttpResponse:
    intent = _delivered(request, intent_id)
    bid = _active_bid(request, intent)
    try:
        photos.remove_photo(vendor=request.vendor, bid=bid, photo_id=photo_id)  # type: ignore[attr-defined]
    except NotFound:
        raise Http404("No such photo.") from None
    except DomainError as error:
        return _refused(request, intent, error)
    messages.success(request, "The photo is removed from your offer.")
    return redirect(reverse("vendor_site:request", args=[intent.pk]) + "#offer")


@require_POST
@vendor_area()
def request_pass(request: HttpRequest, intent_id: UUID) -> HttpResponse:
    vendor = request.vendor  # type: ignore[attr-defined]
    intent = _delivered(request, intent_id)
    form = PassForm(request.POST)
    if form.is_valid():
        try:
            services.pass_intent(vendor=vendor, intent_id=intent.pk, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "You passed on this request.")
            return redirect("vendor_site:inbox")
    return _request_page(request, intent, {"pass": form}, status=400)


@require_POST
@vendor_area()
def request_message(request: HttpRequest, intent_id: UUID) -> HttpResponse:
    vendor = request.vendor  # type: ignore[attr-defined]
    intent = _delivered(request, intent_id)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            threads.post_message(
                intent=intent, vendor=vendor, sender=Message.Sender.VENDOR, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_service_errors(error)
        except DomainError as error:
            return _refused(request, intent, error)
        else:
            messages.success(request, "Your message is sent.")
            return redirect(reverse("vendor_site:request", args=[intent.pk]) + "#thread")
    return _request_page(request, intent, {"message": form}, status=400)


@require_POST
@vendor_area()
def request_terms(request: HttpRequest, intent_id: UUID) -> HttpResponse:
    """Answer her terms: accept, propose one alternative, or decline (``answer_terms``)."""
    vendor = request.vendor  # type: ignore[attr-defined]
    intent = _delivered(request, intent_id)
    form = TermsAnswerForm(request.POST)
    if form.is_valid():
        code, version = form.proposal()
        try:
            with transaction.atomic():
                agreements.answer_terms(
                    vendor=vendor, intent_id=intent.pk, answer=form.cleaned_data["answer"], code=code, version=version
                )
        except ValidationError as error:
            form.add_service_errors(error)
        except DomainError as error:
            return _refused(request, intent, error)
        else:
            messages.success(request, "Your answer to her terms is recorded.")
            return redirect("vendor_site:request", intent_id=intent.pk)
    return _request_page(request, intent, {"terms": form}, status=400)


@require_POST
@vendor_area()
def request_outcome(request: HttpRequest, intent_id: UUID) -> HttpResponse:
    """Say how the agreed deal ended (``deal.mark_outcome``)."""
    vendor = request.vendor  # type: ignore[attr-defined]
    intent = _delivered(request, intent_id)
    bid = selectors.vendor_bids(vendor=vendor).filter(intent=intent, status=Bid.Status.ACCEPTED).first()
    if bid is None:
        raise Http404("No agreed deal on this request.")
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                deal.mark_outcome(bid=bid, side=DealOutcome.Side.VENDOR, vendor=vendor, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_errors(error)
        except DomainError as error:
            return _refused(request, intent, error)
        else:
            messages.success(request, "Thank you: the deal's outcome is recorded.")
            return redirect("vendor_site:request", intent_id=intent.pk)
    return _request_page(request, intent, {"outcome": form}, status=400)


# Offers and deals ----------------------------------------------------------------------------


@vendor_area()
def offers(request: HttpRequest) -> HttpResponse:
    """The vendor's offers, newest first, with each one's state and the deals they became; its
    reputation beside them."""
    vendor = request.vendor  # type: ignore[attr-defined]
    status = request.GET.get("status", "")
    bids = selectors.vendor_bids(vendor=vendor).select_related("intent__category").order_by("-created_at")
    if status in Bid.Status.values:
        bids = bids.filter(status=status)
    page_obj = Paginator(bids, OFFERS_PAGE).get_page(request.GET.get("page"))
    shown = list(page_obj.object_list)
    handles = handles_for_vendor(vendor_id=vendor.pk, customer_ids={b.intent.customer_id for b in shown})
    rows = [{"bid": bid, "handle": handles.get(bid.intent.customer_id, "")} for bid in shown]
    return page(
        request,
        "offers.html",
        {
            "rows": rows,
            "page_obj": page_obj,
            "status": status,
            "statuses": Bid.Status.choices,
            "reputation": vendor_reputation(vendor.pk),
        },
        current="vendor_site:offers",
    )
