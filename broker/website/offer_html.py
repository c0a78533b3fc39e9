"""The pieces of an offer shown in both layouts of her request page (the table's column and the
phone's card), written in Python: the same bytes as the templates of ``FRAGMENTS``
(website/_price.html, _reputation.html, _validity.html, _offer_actions.html, _mark.html), which
stay the readable reference and which a test renders beside these for every state an offer can
be in (tests/website/test_offer_html.py). Rendering them through the template engine, twice 50
offers with a dozen look-ups each, was about a fifth of the page's time with 50 offers.

Every value is escaped as the template engine escapes it (``_e``), and filters
are the engine's own functions, called directly."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from html import escape as html_escape
from typing import TYPE_CHECKING, Any

from django.template.defaultfilters import capfirst, floatformat, pluralize, timeuntil_filter
from django.template.defaultfilters import date as date_filter
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # in Django, not in its stubs

from broker.website.templatetags.money import money
from broker.website.templatetags.reputation_figures import duration_hours, percent
from intents.comparison import DIFFERS, MEETS
from vendors.models import Bid

if TYPE_CHECKING:
    from broker.website.offers import MatrixRow, Offer, TermsAnswer
    from intents.models import Intent

# The templates these functions write the same bytes as, by fragment name.
FRAGMENTS = {
    "price": "website/_price.html",
    "reputation": "website/_reputation.html",
    "validity": "website/_validity.html",
    "actions": "website/_offer_actions.html",
}


def _e(value: Any) -> str:
    """``conditional_escape`` without its check for lazy arguments on every call (a fifth of
    these functions' time): HTML as it is, anything else as text, escaped as Django escapes."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html_escape(str(value))


def price_html(offer: Offer) -> SafeString:
    bid, currency = offer.bid, offer.bid.currency
    out = [f'<p class="price"><strong>{_e(money(bid.amount, currency))}</strong>']
    if offer.revised_from:
        out.append(f' <span class="was">was <s>{_e(money(offer.revised_from, currency))}</s></span>')
    out.append("</p>\n")
    difference = offer.budget_difference
    if difference is not None:
        if difference > 0:
            said = f"{_e(money(difference, currency))} under your budget"
        elif difference < 0:
            said = f"{_e(money(offer.over_budget, currency))} over your budget"
        else:
            said = "exactly your budget"
        out.append(f'<p class="budget small">{said}</p>')
    out.append("\n")
    counter = offer.counter
    if counter:
        out.append('<p class="counter small">')
        if counter.status == "open":
            out.append("You asked for ")
            if counter.target_amount is not None:
                out.append(_e(money(counter.target_amount, currency)))
            else:
                out.append("a better offer")
            if offer.counter_changes:
                out.append(f" ({_e(', '.join(offer.counter_changes))})")
            out.append(": waiting for the vendor.")
        elif counter.status == "declined":
            out.append("The vendor kept its price.")
        elif counter.status == "answered":
            out.append("The vendor revised its offer after you asked.")
        out.append("</p>")
    out.append("\n")
    if offer.revisions:
        n = len(offer.revisions)
        out.append(f'<details class="history small"><summary>Revised {n} time{pluralize(n)}</summary><ul>')
        for revision in offer.revisions:
            when = date_filter(template_localtime(revision.created_at), "j M, H:i")
            out.append(f"<li>{_e(money(revision.amount, revision.currency))} until {_e(when)}</li>")
        out.append("</ul></details>")
    out.append("\n")
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped)


def reputation_html(offer: Offer) -> SafeString:
    r = offer.reputation
    out = ['<span class="reputation">']
    if r["score"] is not None:
        ratings = r["ratings"]
        out.append(
            f"<strong>{_e(floatformat(r['score'], 1))} / 5</strong> from {_e(ratings)} rated deal{pluralize(ratings)}"
        )
    else:
        out.append("New: no rated deals yet")
    out.append('</span>\n<span class="small reputation-behaviour">')
    if r["answered_share"] is not None:
        out.append(f"<br>Answers {_e(percent(r['answered_share']))} of the requests it is sent")
    if r["median_hours_to_offer"] is not None:
        out.append(f"<br>First offer in {_e(duration_hours(r['median_hours_to_offer']))} (median)")
    completed, fell_through = r["deals_completed"], r["deals_fell_through"]
    if completed or fell_through:
        out.append(f"<br>{_e(completed)} deal{pluralize(completed)} completed, {_e(fell_through)} fell through")
        if r["deals_backed_out"]:
            out.append(f" ({_e(r['deals_backed_out'])} by the vendor's word)")
    out.append("</span>\n")
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped)


def validity_html(offer: Offer) -> SafeString:
    bid = offer.bid
    if bid.status == Bid.Status.ACTIVE and offer.expired:
        html = '<span class="status status-expired">Expired</span>'
    elif bid.status == Bid.Status.ACTIVE:
        if bid.valid_until:
            until = template_localtime(bid.valid_until)
            html = f"Valid until {_e(date_filter(until, 'j M'))} ({_e(timeuntil_filter(until))} left)"
        else:
            html = "Open-ended"
    else:
        html = f'<span class="status status-{_e(bid.status)}">{_e(bid.get_status_display())}</span>'
        if bid.decline_reason:
            html += f' <span class="small">({_e(bid.get_decline_reason_display().lower())})</span>'
    return mark_safe(html + "\n")  # noqa: S308 (every value above is escaped)


def actions_html(intent: Intent, offer: Offer) -> SafeString:
    name, links = _e(offer.bid.vendor.name), offer.links
    out = []
    if intent.is_open and offer.can_act:
        out.append(
            f'\n  <a class="button" href="{_e(links["accept"])}">Accept'
            f'<span class="visually-hidden"> {name}\'s offer</span></a>\n  '
        )
        if not offer.counter or offer.counter.status != "open":
            out.append(
                f'<a class="button secondary" href="{_e(links["counter"])}">Ask for better'
                f'<span class="visually-hidden"> from {name}</span></a>'
            )
        out.append(
            f'\n  <a class="button secondary" href="{_e(links["decline"])}">Decline'
            f'<span class="visually-hidden"> {name}\'s offer</span></a>\n'
        )
    out.append(
        f'\n<a href="{_e(links["thread"])}">Messages<span class="visually-hidden"> with {name}</span></a>\n'
        f'<a href="{_e(links["block"])}">Block<span class="visually-hidden"> {name}</span></a>\n'
        f'<a href="{_e(links["report"])}" class="report-link">Report'
        f'<span class="visually-hidden"> {name}\'s offer</span></a>\n'
    )
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped)


def mark_html(mark: str, value: Any) -> SafeString:
    """One comparison cell: its mark and the offered value (website/_mark.html)."""
    if mark == MEETS:
        html = (
            f'<span class="mark mark-meets" aria-hidden="true">✓</span>{_e(value or "—")}'
            '<span class="visually-hidden"> (meets your wish)</span>'
        )
    elif mark == DIFFERS:
        html = (
            f'<span class="mark mark-differs" aria-hidden="true">≠</span>{_e(value)}'
            '<span class="visually-hidden"> (differs from your wish)</span>'
        )
    else:
        html = '<span class="mark mark-not_stated" aria-hidden="true">?</span>not stated'
    return mark_safe(html + "\n")  # noqa: S308 (every value above is escaped)


def offer_fragments(intent: Intent, offer: Offer) -> dict[str, SafeString]:
    """An offer's fragments, by the names of ``FRAGMENTS``."""
    return {
        "price": price_html(offer),
        "reputation": reputation_html(offer),
        "validity": validity_html(offer),
        "actions": actions_html(intent, offer),
    }


# The comparison in both layouts -------------------------------------------------------------
# The table (offers as columns, her wishes as rows) and the phone's cards, cell by cell: with 50
# offers the template engine's loops over them (some 4,000 look-ups) were the larger half of the
# page's time. _offers.html places these pieces; the markup is the one it wrote.


def _photo(offer: Offer, *, width: str, height: str) -> str:
    name = _e(offer.bid.vendor.name)
    assert offer.photo is not None
    return (
        f'<img src="{_e(offer.photo.image.url)}" alt="Photo from {name}" width="{width}" height="{height}"'
        ' loading="lazy">'
    )


def _thumbnail_height(photo: Any) -> str:
    """The photo's height at 240 pixels wide, as ``{% widthratio height width 240 %}`` gave it."""
    try:
        return str(round(float(photo.height) / float(photo.width) * 240))
    except (ValueError, ZeroDivisionError, TypeError):
        return "0"


def _offer_class(offer: Offer) -> str:
    return f"offer-{_e(offer.bid.status)}{' offer-expired' if offer.expired else ''}"


def _fit(offer: Offer) -> str:
    comparison = offer.comparison
    return f"{comparison.fit} of {comparison.wishes} wishes met" if comparison.wishes else ""


def _terms_cell(offer: Offer) -> str:
    state, text = (offer.terms.state, offer.terms.text) if offer.terms is not None else ("", "")
    return f'<td class="terms terms-{_e(state)}">{_e(capfirst(text))}</td>'


def compare_columns(offers: Sequence[Offer], rows: Sequence[MatrixRow]) -> dict[str, Any]:
    """The table's cells, one ``<th>`` or ``<td>`` per offer for each row, joined: ``head``,
    ``price``, ``fit``, ``message``, ``terms``, ``reputation``, ``validity``, ``actions``, and
    ``matrix``: (row, its cells) for each of her wishes (``render_fragments`` wrote the marks)."""
    head = []
    for offer in offers:
        photo = ""
        if offer.photo:
            photo = _photo(offer, width="240", height=_thumbnail_height(offer.photo)) + " "  # as the template's
        head.append(
            f'<th scope="col" class="offer-head {_offer_class(offer)}">{photo}'
            f'<a class="vendor" href="{_e(offer.links["profile"])}">{_e(offer.bid.vendor.name)}</a></th>'
        )

    def cells(html_of: Callable[[Offer], str], cell_class: str = "") -> SafeString:
        opening = f'<td class="{cell_class}">' if cell_class else "<td>"
        return mark_safe("".join(f"{opening}{html_of(offer)}</td>" for offer in offers))  # noqa: S308 (escaped)

    return {
        "head": mark_safe("".join(head)),  # noqa: S308 (escaped)
        "price": cells(lambda offer: offer.html["price"]),
        "fit": cells(lambda offer: _fit(offer) or "—"),
        "message": cells(lambda offer: _e(offer.bid.message or "—"), "offer-text"),
        "terms": mark_safe("".join(_terms_cell(offer) for offer in offers)),  # noqa: S308 (escaped)
        "reputation": cells(lambda offer: offer.html["reputation"]),
        "validity": cells(lambda offer: offer.html["validity"]),
        "actions": cells(lambda offer: offer.html["actions"], "actions"),
        "matrix": [
            (
                row,
                mark_safe(  # noqa: S308 (escaped; the marks are)
                    "".join(f'<td class="cell mark-{_e(cell["mark"])}">{cell["html"]}</td>' for cell in row.cells)
                ),
            )
            for row in rows
        ],
    }


def offer_cards(offers: Sequence[Offer]) -> SafeString:
    """One card per offer, for a phone: the same pieces as the table's column."""
    cards = []
    for offer in offers:
        name = _e(offer.bid.vendor.name)
        out = [
            f'<li class="card offer-card {_offer_class(offer)}">'
            f'<h3><a href="{_e(offer.links["profile"])}">{name}</a></h3>'
        ]
        if offer.photo:
            out.append(_photo(offer, width=_e(offer.photo.width), height=_e(offer.photo.height)))
        out.append(offer.html["price"])
        out.append(f'<p class="small">{_fit(offer)}</p><dl class="card-rows">')
        for row, mark in offer.marked_rows:
            wish = f' <span class="wish">you asked: {_e(row.wish)}</span>' if row.wished else ""
            out.append(f'<div class="cell mark-{_e(row.mark)}"><dt>{_e(row.label)}{wish}</dt><dd>{mark}</dd></div>')
        out.append("</dl>")
        if offer.bid.message:
            out.append(f"<p>{_e(offer.bid.message)}</p>")
        if offer.terms is not None:
            out.append(f'<p class="terms terms-{_e(offer.terms.state)}">Your terms: {_e(offer.terms.text)}</p>')
        out.append(
            f"<p>{offer.html['reputation']}</p><p>{offer.html['validity']}</p>"
            f'<div class="actions">{offer.html["actions"]}</div></li>'
        )
        cards.append("".join(out))
    return mark_safe("\n".join(cards))  # noqa: S308 (every value above is escaped)


# Who has her request -----------------------------------------------------------------------


def audience_rows_html(audience_rows: Sequence[dict[str, Any]], *, sealed: str) -> SafeString:
    """The rows of _audience.html's table, one per vendor (``audience_of`` with ``opened_at``):
    50 rows were a tenth of the page's time through the template engine. Times are written to
    the minute, each distinct minute formatted once."""
    minutes: dict[Any, str] = {}

    def at(value: Any) -> str:
        local = template_localtime(value)
        minute = local.replace(second=0, microsecond=0)
        if minute not in minutes:
            minutes[minute] = _e(date_filter(local, "j M, H:i"))
        return minutes[minute]

    out = []
    for row in audience_rows:
        withdrawn = row["withdrawn"]
        invited = ' <span class="tag">invited</span>' if row["invited"] else ""
        received = "Taken back after your change" if withdrawn else at(row["delivered_at"])
        opened = at(row["opened_at"]) if row["opened_at"] else '<span class="muted">Not yet</span>'
        if row["offered"] and not sealed:
            answer = '<strong class="answer-offer">Made an offer</strong>'
        elif row["passed_at"]:
            answer = f'<span class="answer-pass">Passed: {_e(row["pass_reason"].lower())}</span>'
        elif sealed and not withdrawn:
            answer = '<span class="muted">Offers are sealed</span>'
        elif withdrawn:
            answer = '<span class="muted">—</span>'
        else:
            answer = '<span class="muted">No answer yet</span>'
        out.append(
            f'<tr class="{"audience-withdrawn" if withdrawn else ""}">'
            f'<th scope="row">{_e(row["vendor_name"])}{invited}</th>'
            f'<td data-label="Received">{received}</td><td data-label="Opened">{opened}</td>'
            f'<td data-label="Answer">{answer}</td></tr>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 (every value above is escaped)


# Vendors' answers to her terms -------------------------------------------------------------


def settle_terms_answers_html(answers: Iterable[TermsAnswer]) -> None:
    """Write the card of each answer that awaits nothing from her (``answer.html``; every
    vendor that bid accepted her terms, so there is one per offer); _offers.html renders the
    few that wait for her answer, with their form, itself."""
    for item in answers:
        if item.awaits_her:
            continue
        out = [
            f'<li class="card terms-{_e(item.state)}"><p><strong>{_e(item.vendor.name)}</strong> {_e(item.text)}.</p>'
        ]
        record = item.record
        if record:
            reached = date_filter(template_localtime(record.reached_at), "j M Y, H:i")
            out.append(
                f'<p class="small record">Agreement recorded {_e(reached)}: “{_e(record.agreement.title)}”'
                f" (version {_e(record.agreement.version)}) · digest"
                f' <code class="digest">{_e(record.digest)}</code></p>'
            )
        out.append("</li>")
        item.html = mark_safe("".join(out))  # noqa: S308 (every value above is escaped)
