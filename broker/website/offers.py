"""The offers on one of her requests, arranged for the comparison page: her wishes as rows, the
offers as columns (cards on a phone), each cell marked meets / differs / not stated
(``intents.comparison``), prices against her budget, what was revised, what she asked for, how
long each offer stands. Presentation only: the rules live in the domain."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone

from intents.comparison import MEETS, NOT_STATED, Comparison, compare, format_value, label_of
from intents.models import Intent
from intents.terms import describe_clauses
from reputation.selectors import VendorCard
from vendors.deal import offer_expired
from vendors.models import AgreementAnswer, Bid, BidCounter, BidPhoto, BidRevision


@dataclass
class Offer:
    bid: Bid
    reputation: VendorCard  # score, count and behaviour figures
    comparison: Comparison
    expired: bool
    photo: BidPhoto | None
    revised_from: Decimal | None
    counter: BidCounter | None
    budget_difference: Decimal | None  # positive: under her budget, rounded down in her favour of caution
    counter_changes: list[str] = field(default_factory=list)  # the values she asked for, for people
    revisions: list[BidRevision] = field(default_factory=list)  # what it said before, newest first
    cells: dict[str, Any] = field(default_factory=dict)
    terms: TermsAnswer | None = None  # the vendor's answer to her terms, the agreement it stands on
    links: dict[str, str] = field(default_factory=dict)  # her actions on it (``add_links``)

    @property
    def over_budget(self) -> Decimal | None:
        return -self.budget_difference if self.budget_difference is not None and self.budget_difference < 0 else None

    @property
    def can_act(self) -> bool:
        return self.bid.status == Bid.Status.ACTIVE and not self.expired


@dataclass
class TermsAnswer:
    """One vendor's answer to the agreement she proffered, for people: ``state`` is one of
    ``accepted`` (her terms), ``agreed`` (its proposal, which she accepted), ``proposed`` (waiting
    for her), ``refused`` (she refused its proposal), ``declined`` (it cannot bid). ``record``: the
    agreement reached (``vendors.selectors.intent_terms_answers``), if any."""

    vendor_id: int
    vendor_name: str
    state: str
    text: str
    proposed_summary: str = ""
    proposed_clauses: list[str] = field(default_factory=list)
    record: dict[str, Any] | None = None

    @property
    def awaits_her(self) -> bool:
        return self.state == "proposed"


def terms_answers(intent: Intent, answers: Sequence[Mapping[str, Any]]) -> dict[int, TermsAnswer]:
    """Each answering vendor's answer to her terms, by vendor id; ``answers``:
    ``vendors.selectors.intent_terms_answers``."""
    result = {}
    for answer in answers:
        record = answer["record"]
        agreement_id = record["agreement_id"] if record is not None else None
        proposed = answer["proposed_title"] if answer["proposed_id"] is not None else None
        if agreement_id is not None and agreement_id != intent.agreement_id:
            state, text = "agreed", f"agreed with you on “{record['title']}”, its proposal"
        elif agreement_id is not None:
            how = " by bidding" if answer["implicit"] else ""
            after = f" (after you refused “{proposed}”)" if proposed is not None else ""
            state, text = "accepted", f"accepted your terms{how}{after}"
        elif answer["answer"] == AgreementAnswer.Answer.DECLINE:
            state, text = "declined", "declined your terms: it cannot make an offer"
        elif answer["response"] == AgreementAnswer.Response.PENDING and proposed is not None:
            state, text = "proposed", f"proposes “{proposed}” instead of your terms"
        else:
            state, text = "refused", f"proposed “{proposed if proposed is not None else 'other terms'}”; you refused it"
        result[answer["vendor_id"]] = TermsAnswer(
            vendor_id=answer["vendor_id"],
            vendor_name=answer["vendor_name"],
            state=state,
            text=text,
            proposed_summary=answer["proposed_summary"] or "",
            proposed_clauses=describe_clauses(answer["proposed_clauses"]) if proposed is not None else [],
            record=record,
        )
    return result


def attach_terms(offers: Sequence[Offer], answers: dict[int, TermsAnswer]) -> None:
    """Put each vendor's answer beside its offer. An offer made before agreements existed stood
    on her terms: every bid accepted them."""
    for offer in offers:
        offer.terms = answers.get(offer.bid.vendor_id) or TermsAnswer(
            vendor_id=offer.bid.vendor_id,
            vendor_name=offer.bid.vendor.name,
            state="accepted",
            text="accepted your terms by bidding",
        )


@dataclass(frozen=True)
class MatrixRow:
    name: str
    label: str
    wish: str
    wished: bool
    cells: list[Any]


def _budget_difference(intent: Intent, bid: Bid) -> Decimal | None:
    if intent.budget_max is None or intent.currency != bid.currency:
        return None
    difference = intent.budget_max - bid.amount
    # Never overstate a saving: whole units, rounded towards zero.
    return Decimal(math.floor(difference)) if difference >= 0 else Decimal(math.ceil(difference))


def _changes(definitions: dict[str, Any], wanted: dict[str, Any], intent: Intent) -> list[str]:
    country = intent.region.code
    return [
        f"{label_of(definitions[name])} {format_value(definitions[name], value, country=country)}"
        for name, value in wanted.items()
        if name in definitions
    ]


def build_offers(
    intent: Intent, schema: Sequence[Mapping[str, Any]], bids: Sequence[Bid], reputations: dict[int, VendorCard]
) -> list[Offer]:
    """The offers of ``bids`` on her request; ``schema``: its category's (``remembered_category_schema``),
    which the page reads once for this and for her wishes."""
    definitions = {definition["name"]: definition for definition in schema}
    now = timezone.now()
    offers = []
    for bid in bids:
        revisions = sorted(bid.revisions.all(), key=lambda revision: revision.created_at)
        counters = sorted(bid.counters.all(), key=lambda counter: counter.created_at)
        photos = list(bid.photos.all())
        revised_from = revisions[-1].amount if revisions and revisions[-1].amount != bid.amount else None
        offers.append(
            Offer(
                bid=bid,
                reputation=reputations[bid.vendor_id],
                comparison=compare(schema, intent.attributes, bid.offered_attributes, country=intent.region.code),
                expired=bid.status == Bid.Status.EXPIRED
                or (bid.status == Bid.Status.ACTIVE and offer_expired(bid, now)),
                photo=photos[0] if photos else None,
                revised_from=revised_from,
                counter=counters[-1] if counters else None,
                budget_difference=_budget_difference(intent, bid),
                counter_changes=_changes(definitions, counters[-1].target_attributes if counters else {}, intent),
                revisions=revisions[::-1],
            )
        )
    return offers


# Stand-ins reversed once per page, then replaced by each offer's own: the page shows every offer
# twice (a table, and cards on a phone) with five links each, and reversing 500 URLs took a
# fifth of its time.
_ANY_BID = "00000000-0000-4000-8000-000000000000"
_ANY_VENDOR = 2**62
BID_LINKS = ("accept", "counter", "decline")
VENDOR_LINKS = ("thread", "block")


def add_links(intent: Intent, offers: Sequence[Offer]) -> None:
    """Each offer's links: accept, ask for better, decline; messages, block its vendor; its vendor's
    profile, report it. Reversed once with a placeholder and filled in per offer: reversing each
    link of 50 offers cost more than the rest of their markup."""
    bid_urls = {name: reverse(f"intents:{name}", args=[intent.pk, _ANY_BID]) for name in BID_LINKS}
    vendor_urls = {name: reverse(f"intents:{name}", args=[intent.pk, _ANY_VENDOR]) for name in VENDOR_LINKS}
    profile_url = reverse("intents:vendor_profile", args=[_ANY_VENDOR])  # its vendor's page
    report_url = reverse("intents:report", args=["offer", _ANY_BID])
    vendor_part = f"/{_ANY_VENDOR}/"
    for offer in offers:
        bid_id, vendor_part_of_offer = str(offer.bid.pk), f"/{offer.bid.vendor_id}/"
        offer.links = {name: url.replace(_ANY_BID, bid_id) for name, url in bid_urls.items()}
        offer.links |= {name: url.replace(vendor_part, vendor_part_of_offer) for name, url in vendor_urls.items()}
        offer.links["profile"] = profile_url.replace(vendor_part, vendor_part_of_offer)
        offer.links["report"] = report_url.replace(_ANY_BID, bid_id)


def _sort_key(sort: str) -> Callable[[Offer], Any]:
    keys: dict[str, Callable[[Offer], Any]] = {
        "price": lambda offer: (offer.bid.amount, offer.bid.created_at),
        "fit": lambda offer: (-offer.comparison.fit, offer.bid.amount),
        # By the score's lower bound (docs/reputation.md): one 5 does not outrank forty 4.8s.
        "reputation": lambda offer: (
            -(offer.reputation["rank_score"] or 0),
            -offer.reputation["ratings"],
            offer.bid.amount,
        ),
        "newest": lambda offer: -offer.bid.created_at.timestamp(),
    }
    return keys.get(sort, keys["price"])


SORT_LABELS = {"price": "lowest price", "fit": "best fit", "reputation": "reputation", "newest": "newest"}


def sort_offers(offers: list[Offer], sort: str) -> tuple[list[Offer], str]:
    """Offers still standing first, each group in the chosen order; returns the sort applied."""
    sort = sort if sort in SORT_LABELS else "price"
    key = _sort_key(sort)
    return sorted(offers, key=lambda offer: (not offer.can_act, key(offer))), sort


def matrix(offers: Sequence[Offer]) -> list[MatrixRow]:
    """Her wishes as rows (in the schema's order), then what offers state that she did not ask
    about; one cell per offer, in the offers' order."""
    names: dict[str, tuple[str, str, bool]] = {}
    for offer in offers:
        for row in offer.comparison.rows:
            label, wish, wished = names.get(row.name, (row.label, row.wish, row.wished))
            names[row.name] = (label, wish or row.wish, wished or row.wished)
    ordered = sorted(names.items(), key=lambda item: not item[1][2])  # stable: wishes first
    rows = []
    for name, (label, wish, wished) in ordered:
        cells = []
        for offer in offers:
            found = next((r for r in offer.comparison.rows if r.name == name), None)
            cells.append(
                {
                    "offer": found.offer if found else "",
                    "mark": found.mark if found else (NOT_STATED if wished else MEETS),
                }
            )
        rows.append(MatrixRow(name=name, label=label, wish=wish, wished=wished, cells=cells))
    return rows


def sealed_notice(intent: Intent, count: int, now: datetime | None = None) -> str:
    if not intent.is_sealed(now):
        return ""
    assert intent.sealed_until is not None
    offers = f"{count} offer{'s' if count != 1 else ''} received so far" if count else "No offers yet"
    deadline = f"{timezone.localtime(intent.sealed_until):%-d %b, %H:%M}"
    return f"{offers}. They stay sealed until {deadline}: you see them all together then."
