"""The customer's website. Thin: a form or a selector, a service, a template."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from broker import personal_data
from broker.core.errors import DomainError, NotFound
from broker.core.language import preferred_language
from broker.pipeline.audience import amend_with_audience, publish_with_audience
from broker.website.deal_forms import OutcomeForm
from broker.website.deal_views import own_intent as _own_intent
from broker.website.forms import AmendForm, ChooseForm, EraseForm, IntentForm, MessageForm, RatingForm, RevealForm
from broker.website.offers import (
    SORT_LABELS,
    add_links,
    attach_terms,
    build_offers,
    matrix,
    sealed_notice,
    sort_offers,
    terms_answers,
)
from broker.website.paging import page_of
from broker.website.personal_data_warning import check_request_text
from intents import selectors
from intents.comparison import describe_attributes
from intents.taxonomy import remembered_category_schema
from intents.terms import describe_terms
from reputation.models import Rating
from reputation.selectors import customer_rating_of, vendor_cards
from reputation.services import may_rate, rate
from vendors import relationships
from vendors import selectors as vendor_selectors
from vendors.models import Bid, DealOutcome, Message
from vendors.threads import post_message


def home(request):
    return render(request, "website/home.html")


@login_required
def intent_list(request):
    page = page_of(request, selectors.customer_intents(customer=request.user))
    counts = vendor_selectors.active_bid_counts(intent_ids=[intent.pk for intent in page])
    rows = [{"intent": intent, "active_bids": counts.get(intent.pk, 0)} for intent in page]
    return render(request, "website/intent_list.html", {"rows": rows, "page": page})


@login_required
def intent_new(request):
    asked = set(request.GET) - {"invite"}  # ?invite=<vendor> alone comes from "My vendors"
    choose = ChooseForm(request.GET if asked else None)
    if not choose.is_valid():
        invite = [value for value in request.GET.getlist("invite") if value.isdigit()]
        return render(request, "website/intent_choose.html", {"form": choose, "invite": invite})
    category, country = choose.cleaned_data["category"], choose.cleaned_data["country"]
    history = vendor_selectors.history_vendors(customer=request.user)
    form = IntentForm(
        request.POST or None,
        category=category,
        country=country,
        language=preferred_language(request.headers.get("Accept-Language", "")),
        history=history,
        initial={"invite": _invited(request, history)},
        agreement=selectors.remembered_agreement(customer=request.user),
    )
    warning = None
    if request.method == "POST" and form.is_valid():
        check = check_request_text(
            request,
            texts={
                "title": (form.fields["title"].label, form.cleaned_data["title"]),
                "details": (form.fields["details"].label, form.cleaned_data.get("details", "")),
            },
            country=country.code,
            customer=request.user,
        )
        if check.redacted is not None:
            form = IntentForm(
                check.redacted,
                category=category,
                country=country,
                language=form.fields["language"].initial,
                history=history,
                agreement=form.remembered,
            )
            messages.info(request, "We removed the personal data. Check your request, then publish it.")
        elif check.warning is not None:
            warning = check.warning
        else:
            try:
                intent = publish_with_audience(customer=request.user, **form.publish_arguments())
            except ValidationError as error:
                form.add_service_errors(error.message_dict)
            else:
                messages.success(request, "Your request is out. Vendors who match it will bid here.")
                return redirect("intents:detail", pk=intent.pk)
    return render(
        request,
        "website/intent_form.html",
        {"form": form, "category": category, "country": country, "warning": warning},
    )


def _invited(request, history) -> list[int]:
    """``?invite=<vendor id>`` (from "My vendors") pre-selects that vendor, if it is one of hers."""
    wanted = set(request.GET.getlist("invite"))
    return [vendor.pk for vendor in history if str(vendor.pk) in wanted]


@login_required
def intent_amend(request, pk):
    """She changes an open request; the pipeline matches it again."""
    intent = _own_intent(request, pk)
    if not intent.is_open:
        messages.error(request, f"This request is {intent.get_status_display().lower()}; it can no longer change.")
        return redirect("intents:detail", pk=intent.pk)
    history = vendor_selectors.history_vendors(customer=request.user)
    choices = vendor_selectors.audience_choices(intent_id=intent.pk)
    form = AmendForm(request.POST or None, intent=intent, history=history, choices=choices)
    warning = None
    if request.method == "POST" and form.is_valid():
        check = check_request_text(
            request,
            texts={"details": (form.fields["details"].label, form.cleaned_data.get("details", ""))},
            country=intent.region.code,
            customer=request.user,
        )
        if check.redacted is not None:
            form = AmendForm(check.redacted, intent=intent, history=history, choices=choices)
            messages.info(request, "We removed the personal data. Check the changes, then save them.")
        elif check.warning is not None:
            warning = check.warning
        else:
            try:
                amend_with_audience(customer=request.user, intent_id=intent.pk, **form.amend_arguments())
            except ValidationError as error:
                form.add_service_errors(error.message_dict)
            except DomainError as error:
                messages.error(request, error.message)
                return redirect("intents:detail", pk=intent.pk)
            else:
                messages.success(request, "Saved. The vendors who have your request are told what changed.")
                return redirect("intents:detail", pk=intent.pk)
    return render(request, "website/intent_amend.html", {"form": form, "intent": intent, "warning": warning})


@login_required
def intent_detail(request, pk):
    return _detail_page(request, pk)


OFFERS_TEMPLATE = "website/offers.jinja"


def _offers_context(request, intent, bids, schema) -> dict:
    """The offers section: the comparison, or the sealed notice, and how far the request got.
    ``bids``: ``intent_bids``, which the page reads once for this section and for the deal;
    ``schema``: the category's (as the process remembers it, as a bid checks it), read once for
    the comparison and for her wishes."""
    reputations = vendor_cards({b.vendor_id for b in bids})
    sealed = sealed_notice(intent, len(bids))
    offers = [] if sealed else build_offers(intent, schema, bids, reputations)
    offers, sort = sort_offers(offers, request.GET.get("sort", ""))
    answers = terms_answers(intent, vendor_selectors.intent_terms_answers(intent=intent))
    attach_terms(offers, answers)
    add_links(intent, offers)
    rows = matrix(offers)
    audience_rows = _opened(
        vendor_selectors.audience_of(intent=intent, offered_vendor_ids={bid.vendor_id for bid in bids}),
        [] if sealed else bids,
    )
    return {
        "terms_answers": list(answers.values()),
        "intent": intent,
        "offers": offers,
        "matrix": rows,
        "sort": sort,
        "sorts": SORT_LABELS,
        "sealed": sealed,
        "reach": _reach(audience_rows),
        "pass_reasons": _pass_reasons(audience_rows),
        "audience_rows": audience_rows,
        "audience_limits": _audience_limits(intent),
    }


def _audience_limits(intent) -> str:
    """Her limits on who hears the request, in words ("" for none)."""
    parts = []
    if intent.audience_min_rating is not None:
        parts.append(f"rated {intent.audience_min_rating:.1f} stars or more")
    if not intent.audience_include_new:
        parts.append("no new vendors")
    return " and ".join(parts)


def _opened(audience_rows: list[dict], bids: Sequence[Bid]) -> list[dict]:
    """Each audience row with ``opened_at``: when the vendor first read her request or, for a
    vendor that bid through the API without reading it first, when it first bid (``bids``: the
    page's, none while offers are sealed, so that no row tells who bid): a vendor that made an
    offer has opened her request."""
    first_bid_at: dict[int, datetime] = {}
    for bid in bids:
        if bid.vendor_id not in first_bid_at or bid.created_at < first_bid_at[bid.vendor_id]:
            first_bid_at[bid.vendor_id] = bid.created_at
    for row in audience_rows:
        row["opened_at"] = row["seen_at"] or first_bid_at.get(row["vendor_id"])
    return audience_rows


def _reach(audience_rows: list[dict]) -> dict[str, int]:
    """How far her request got (the vendors that still have it, opened it or bid on it, passed on
    it), counted from the audience list the page reads anyway rather than in a query of its own."""
    current = [row for row in audience_rows if not row["withdrawn"]]
    return {
        "reached": len(current),
        "opened": sum(row["opened_at"] is not None for row in current),
        "passed": sum(row["passed_at"] is not None for row in current),
    }


def _pass_reasons(audience_rows: list[dict]) -> list[tuple[str, int]]:
    """Why vendors passed, most given reason first, counted from the audience list (which
    labels each reason)."""
    counts = Counter(row["pass_reason"] for row in audience_rows if row["passed_at"] is not None)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


@login_required
def intent_offers(request, pk):
    """The offers section alone: what the page polls for (htmx) so new offers appear live."""
    intent = _own_intent(request, pk)
    bids = vendor_selectors.intent_bids(intent=intent)
    context = _offers_context(request, intent, bids, remembered_category_schema(intent.category))
    return render(request, OFFERS_TEMPLATE, context, using="jinja2")


def _detail_page(request, pk, *, reveal_form: RevealForm | None = None):
    intent = _own_intent(request, pk)
    bids = vendor_selectors.intent_bids(intent=intent)
    schema = remembered_category_schema(intent.category)
    context = _offers_context(request, intent, bids, schema)
    # The offers section is a Jinja2 template (broker/website/jinja.py says why), rendered here
    # and placed by the page, as the polling view (``intent_offers``) renders it alone.
    offers_section = ""
    if intent.status != "in_review":
        offers_section = mark_safe(render_to_string(OFFERS_TEMPLATE, context, request, using="jinja2"))  # noqa: S308 (Jinja2 escapes)
    # The offer she accepted, if any: among the bids read above (only withdrawn ones are not).
    accepted = next((bid for bid in bids if bid.status == Bid.Status.ACCEPTED), None)
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
    my_outcome = vendor_selectors.outcome_of(bid=accepted, side=DealOutcome.Side.CUSTOMER) if accepted else None
    return render(
        request,
        "website/intent_detail.html",
        {
            **context,
            "offers_section": offers_section,
            "terms": describe_terms(intent.agreement),
            "accepted": accepted,
            "my_outcome": my_outcome,
            "outcome_form": OutcomeForm() if accepted is not None and my_outcome is None else None,
            "my_rating": my_rating,
            "rating_form": RatingForm() if accepted is not None and my_rating is None and may_rate(accepted) else None,
            "reveal": reveal,
            "reveal_form": reveal_form,
            "attribute_labels": describe_attributes(schema, intent.attributes, country=intent.region.code),
        },
    )


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
            "page": page_of(request, vendor_selectors.thread(intent=intent, vendor=bid.vendor), per_page=50, last=True),
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
