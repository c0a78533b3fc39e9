"""The customer's side of the deal on the website: accept, decline, counter, block and withdraw
each ask first and say what will happen; saying how a deal ended. Thin: a form, one transition
of ``vendors.deal``, a redirect; errors go back next to the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from broker.core.errors import DomainError, NotFound
from broker.website.deal_forms import CounterForm, DeclineForm, OutcomeForm, ProposalResponseForm, WithdrawForm
from intents import selectors
from intents.models import Intent
from intents.terms import describe_clauses
from vendors import agreements, deal, relationships
from vendors import selectors as vendor_selectors
from vendors.models import Bid, DealOutcome

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _customer(request: HttpRequest) -> User:
    """The signed-in customer (every view here is ``login_required``)."""
    return cast("User", request.user)


def own_intent(request: HttpRequest, pk: Any) -> Intent:
    """One of the signed-in customer's requests; 404 for anybody else's."""
    try:
        return selectors.customer_intent(customer=_customer(request), intent_id=pk)
    except NotFound:
        raise Http404("No such request.") from None


def _own_bid(intent: Intent, bid_id: Any) -> Bid:
    try:
        return vendor_selectors.intent_bid(intent=intent, bid_id=bid_id)
    except NotFound:
        raise Http404("No such offer.") from None


def _confirm(request: HttpRequest, intent: Intent, **context: Any) -> HttpResponse:
    return render(request, "website/confirm.html", {"intent": intent, **context})


def _apply_errors(form: Form, error: ValidationError) -> None:
    if isinstance(form, CounterForm):
        form.add_service_errors(error.message_dict)  # its keys name attributes: ``target_attributes.x``
        return
    for field, field_messages in error.message_dict.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)


def _submit(
    request: HttpRequest, intent: Intent, form: Form, transition: Callable[[], object], success: str
) -> HttpResponse | None:
    """Run one transition of the deal with a valid form's data. Back to the request when it is
    done, or when the deal refuses it (the reason as a message); None to show the form again,
    with the service's messages next to the fields."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        transition()
    except ValidationError as error:
        _apply_errors(form, error)
        return None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("intents:detail", pk=intent.pk)


@login_required
def bid_accept(request: HttpRequest, pk: Any, bid_id: Any) -> HttpResponse:
    intent = own_intent(request, pk)
    bid = _own_bid(intent, bid_id)
    others = [
        other for other in vendor_selectors.intent_bids(intent=intent) if other.status == "active" and other != bid
    ]
    if request.method == "POST":
        try:
            deal.accept_bid(customer=_customer(request), bid_id=bid.pk)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Deal agreed with {bid.vendor.name}. The other vendors have been told.")
        return redirect("intents:detail", pk=intent.pk)
    consequences = [
        f"You agree the deal with {bid.vendor.name} at the price they offered.",
        "Your request closes: no new offers.",
    ]
    if others:
        consequences.append(
            f"The other {len(others)} offer{'s' if len(others) != 1 else ''} will be declined, and "
            f"{'their vendors' if len(others) != 1 else 'its vendor'} told."
        )
    consequences.append(
        f"{bid.vendor.name} still knows you only by a pseudonym until you choose to tell them who you are."
    )
    return _confirm(
        request,
        intent,
        title=f"Accept {bid.vendor.name}'s offer?",
        bid=bid,
        consequences=consequences,
        action_label="Accept this offer",
        danger=False,
    )


@login_required
def bid_decline(request: HttpRequest, pk: Any, bid_id: Any) -> HttpResponse:
    intent = own_intent(request, pk)
    bid = _own_bid(intent, bid_id)
    form = DeclineForm(request.POST or None)
    done = _submit(
        request,
        intent,
        form,
        lambda: deal.decline_bid(customer=_customer(request), bid_id=bid.pk, reason=form.cleaned_data["reason"]),
        f"Declined. {bid.vendor.name} has been told why.",
    )
    if done is not None:
        return done
    return _confirm(
        request,
        intent,
        title=f"Decline {bid.vendor.name}'s offer?",
        bid=bid,
        form=form,
        consequences=["The offer is declined for good; the vendor cannot revise it.", "Your request stays open."],
        action_label="Decline the offer",
        danger=True,
    )


@login_required
def bid_counter(request: HttpRequest, pk: Any, bid_id: Any) -> HttpResponse:
    intent = own_intent(request, pk)
    bid = _own_bid(intent, bid_id)
    form = CounterForm(request.POST or None, bid=bid)
    done = _submit(
        request,
        intent,
        form,
        lambda: deal.counter_bid(customer=_customer(request), bid_id=bid.pk, **form.counter_arguments()),
        f"Sent. {bid.vendor.name} can revise its offer or decline.",
    )
    if done is not None:
        return done
    return _confirm(
        request,
        intent,
        title=f"Ask {bid.vendor.name} for a better offer",
        bid=bid,
        form=form,
        consequences=[
            "The vendor sees your target and note under your pseudonym, and may revise its offer or decline.",
            "You can ask each vendor once at a time.",
        ],
        action_label="Send",
        danger=False,
    )


@login_required
def vendor_block(request: HttpRequest, pk: Any, vendor_id: int) -> HttpResponse:
    intent = own_intent(request, pk)
    try:
        bid = vendor_selectors.bid_from_vendor(intent=intent, vendor_id=vendor_id)
    except NotFound:
        raise Http404("No such vendor on this request.") from None
    if request.method == "POST":
        relationships.block_vendor(customer=_customer(request), vendor_id=vendor_id)
        messages.success(request, f"Blocked. None of your requests will reach {bid.vendor.name} again.")
        return redirect("intents:detail", pk=pk)
    return _confirm(
        request,
        intent,
        title=f"Block {bid.vendor.name}?",
        consequences=[
            f"None of your requests will reach {bid.vendor.name} again.",
            "Its offers already made stay where they are; you can still decline them.",
        ],
        action_label=f"Block {bid.vendor.name}",
        danger=True,
    )


@login_required
def intent_withdraw(request: HttpRequest, pk: Any) -> HttpResponse:
    intent = own_intent(request, pk)
    form = WithdrawForm(request.POST or None)
    done = _submit(
        request,
        intent,
        form,
        lambda: deal.withdraw_intent(
            customer=_customer(request), intent_id=intent.pk, reason=form.cleaned_data["reason"]
        ),
        "Request withdrawn. The vendors who have it have been told why.",
    )
    if done is not None:
        return done
    return _confirm(
        request,
        intent,
        title="Withdraw this request?",
        form=form,
        consequences=[
            "Your request closes for good; no vendor can make or change an offer.",
            "Every offer on it is declined and the vendors are told the reason you give.",
        ],
        action_label="Withdraw the request",
        danger=True,
    )


@login_required
def deal_outcome(request: HttpRequest, pk: Any, bid_id: Any) -> HttpResponse:
    """She says how the agreed deal ended (a form on the request's page)."""
    intent = own_intent(request, pk)
    bid = _own_bid(intent, bid_id)
    form = OutcomeForm(request.POST or None)
    done = _submit(
        request,
        intent,
        form,
        lambda: deal.mark_outcome(
            bid=bid, side=DealOutcome.Side.CUSTOMER, customer=_customer(request), **form.cleaned_data
        ),
        "Thank you. The vendor has been told.",
    )
    if done is not None:
        return done
    return _confirm(
        request,
        intent,
        title=f"How did the deal with {bid.vendor.name} end?",
        bid=bid,
        form=form,
        consequences=["The vendor is told what you say. Once a deal is completed, both of you can rate it."],
        action_label="Save",
        danger=False,
    )


@login_required
def terms_respond(request: HttpRequest, pk: Any, vendor_id: int) -> HttpResponse:
    """She accepts or refuses the agreement a vendor proposed instead of hers. The buttons on the
    request's page post her choice here; this page says what follows and asks her to confirm
    (the confirming button posts ``confirmed``), since her answer cannot be undone."""
    intent = own_intent(request, pk)
    proposal = vendor_selectors.proposal_from(intent=intent, vendor_id=vendor_id)
    if proposal is None or proposal.proposed is None:
        raise Http404("This vendor has proposed no other agreement on this request.")
    vendor, proposed = proposal.vendor, proposal.proposed
    form = ProposalResponseForm(request.POST or None, initial={"response": request.GET.get("response")})
    if request.method == "POST" and form.is_valid() and request.POST.get("confirmed") == "yes":
        accept = form.cleaned_data["response"] == "accept"
        try:
            agreements.respond_to_proposal(
                customer=_customer(request), intent_id=intent.pk, vendor_id=vendor.pk, accept=accept
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"Agreed with {vendor.name} on “{proposed.title}”. It can now make an offer; the agreement "
                "is recorded for both of you."
                if accept
                else f"Refused. {vendor.name} has been told; it may still accept your terms or decline them.",
            )
        return redirect("intents:detail", pk=intent.pk)
    return _confirm(
        request,
        intent,
        title=f"{vendor.name} proposes “{proposed.title}”",
        form=form,
        lead=proposed.summary,
        lead_list=describe_clauses(proposed.clauses),
        consequences=[
            f"If you accept: you and {vendor.name} agree on “{proposed.title}” for this request, instead of your "
            "terms; the agreement is recorded for both of you, and the vendor may make an offer.",
            f"If you refuse: {vendor.name} is told, and may still accept your terms or decline them.",
            "Your answer is final: it cannot be changed afterwards. Other vendors keep your terms either way.",
        ],
        action_label="Confirm my answer",
        action_name="confirmed",
        danger=False,
    )
