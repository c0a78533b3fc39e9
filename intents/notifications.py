"""Telling the customer what happened to her requests: an entry in her list on the site, always,
and an email as well for the kinds she wants by email (her preferences; ``EMAIL_BY_DEFAULT``
without them). Nothing here is sent to vendors. The vendors layer calls these when a vendor
bids, writes, answers a counter, or the deal moves; the email is sent by a Celery task after the
transaction commits (``broker.core.mail``), so a rolled-back change tells her nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from broker.core.mail import email_after_commit
from intents.models import Intent, Notification, NotificationPreference

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Kind = Notification.Kind
# Every kind is worth an email unless she says otherwise: each one is something she would act on.
EMAIL_BY_DEFAULT: dict[str, bool] = {
    Kind.OFFER: True,
    Kind.COUNTER_ANSWERED: True,
    Kind.MESSAGE: True,
    Kind.DEAL: True,
    Kind.REQUEST_CLOSED: True,
    Kind.TERMS: True,
    Kind.MODERATION: True,
    Kind.REPORT: True,
}


def _request_path(intent: Intent) -> str:
    return reverse("intents:detail", args=[intent.pk])


def email_choices(*, customer: User) -> dict[str, bool]:
    """Whether she wants an email for each kind, by kind (her choice, else the default)."""
    chosen = dict(NotificationPreference.objects.filter(customer=customer).values_list("kind", "email"))
    return {kind: chosen.get(kind, default) for kind, default in EMAIL_BY_DEFAULT.items()}


def notify(*, intent: Intent, kind: str, text: str, subject: str, body: str) -> Notification:
    """Add ``text`` to her list, linked to the request, and email her ``subject`` and ``body``
    (with the link) if she wants this kind by email."""
    return notify_customer(
        customer=intent.customer,
        intent=intent,
        kind=kind,
        text=text,
        subject=subject,
        body=body,
        link=_request_path(intent),
    )


def notify_customer(
    *, customer: User, kind: str, text: str, subject: str, body: str, link: str, intent: Intent | None = None
) -> Notification:
    """``notify`` for what is not about one request of hers (a report): ``link`` is the path it
    leads to."""
    notification = Notification.objects.create(customer=customer, kind=kind, intent=intent, text=text[:300], link=link)
    if email_choices(customer=customer)[kind]:
        email_after_commit(to=customer.email, subject=subject, body=f"{body}\n\n{settings.SITE_URL}{link}\n")
    return notification


def bid_received(*, intent: Intent, vendor_name: str) -> None:
    """A vendor bid on her request."""
    notify(
        intent=intent,
        kind=Kind.OFFER,
        text=f"{vendor_name} made an offer on “{intent.title}”",
        subject=f"New offer on “{intent.title}”",
        body=f"{vendor_name} has made an offer on your request “{intent.title}”.\n\n"
        "Compare the offers and accept the one you like:",
    )


def vendor_wrote(*, intent: Intent, vendor_name: str) -> None:
    """A vendor sent her a message about her request."""
    notify(
        intent=intent,
        kind=Kind.MESSAGE,
        text=f"{vendor_name} wrote about “{intent.title}”",
        subject=f"{vendor_name} wrote about “{intent.title}”",
        body=f"{vendor_name} sent you a message about “{intent.title}”. Read and reply:",
    )


def counter_answered(*, intent: Intent, vendor_name: str, revised: bool) -> None:
    """How a vendor answered her request for a better offer."""
    answer = "revised its offer" if revised else "will not change its offer"
    notify(
        intent=intent,
        kind=Kind.COUNTER_ANSWERED,
        text=f"{vendor_name} {answer} on “{intent.title}”",
        subject=f"{vendor_name} {answer} on “{intent.title}”",
        body=f"You asked {vendor_name} for a better offer on “{intent.title}”; it {answer}. See the offers:",
    )


def deal_agreed(*, intent: Intent, vendor_name: str) -> None:
    """She accepted an offer: the deal is agreed (her record of it, and what comes next)."""
    notify(
        intent=intent,
        kind=Kind.DEAL,
        text=f"Deal agreed with {vendor_name} on “{intent.title}”",
        subject=f"Deal agreed with {vendor_name}",
        body=f"You accepted {vendor_name}'s offer on “{intent.title}”. The other vendors have been told. "
        "You can tell this vendor who you are, and say how the deal went:",
    )


def deal_outcome(*, intent: Intent, vendor_name: str, completed: bool) -> None:
    """The vendor said how the agreed deal ended."""
    how = "completed" if completed else "fell through"
    notify(
        intent=intent,
        kind=Kind.DEAL,
        text=f"{vendor_name} says the deal on “{intent.title}” {how}",
        subject=f"{vendor_name} says the deal {how}",
        body=f"{vendor_name} says the deal on “{intent.title}” {how}. Give your word and rate the vendor:",
    )


def request_expired(*, intent: Intent) -> None:
    """Her request reached its expiry date and closed."""
    notify(
        intent=intent,
        kind=Kind.REQUEST_CLOSED,
        text=f"Your request “{intent.title}” expired",
        subject=f"Your request “{intent.title}” expired",
        body=f"Your request “{intent.title}” reached its closing date; its open offers were declined. "
        "You can post it again:",
    )


def request_removed(*, intent: Intent) -> None:
    """A moderator removed her request, and why."""
    notify(
        intent=intent,
        kind=Kind.REQUEST_CLOSED,
        text=f"A moderator removed your request “{intent.title}”",
        subject=f"Your request “{intent.title}” was removed",
        body=f"A moderator removed your request “{intent.title}”.\n\nThe reason: {intent.removal_reason}\n\n"
        "Its offers were withdrawn and the vendors were told.",
    )


def request_released(*, intent: Intent) -> None:
    """A moderator reviewed her held request and released it: it is sent to vendors now."""
    notify(
        intent=intent,
        kind=Kind.MODERATION,
        text=f"Your request “{intent.title}” was reviewed and sent to vendors",
        subject=f"Your request “{intent.title}” is live",
        body=f"A moderator reviewed your request “{intent.title}”; it has been sent to the vendors who match it. "
        "Offers will appear here:",
    )


def offers_withdrawn_by_moderation(*, intent: Intent, vendor_name: str) -> None:
    """A vendor was suspended: its offer on her request was withdrawn by the moderators."""
    notify(
        intent=intent,
        kind=Kind.MODERATION,
        text=f"{vendor_name}'s offer on “{intent.title}” was withdrawn by our moderators",
        subject=f"{vendor_name}'s offer was withdrawn",
        body=f"Our moderators suspended {vendor_name}; its offer on your request “{intent.title}” was withdrawn "
        "and can no longer be accepted. Your request stays open to the other vendors:",
    )


def mark_read(*, customer: User, notification_id: int) -> int:
    """Mark one of her notifications read (another's: nothing). Returns how many changed."""
    return Notification.objects.filter(customer=customer, pk=notification_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def mark_all_read(*, customer: User) -> int:
    """Mark all her notifications read. Returns how many changed."""
    return Notification.objects.filter(customer=customer, read_at__isnull=True).update(read_at=timezone.now())


def save_email_choices(*, customer: User, choices: Mapping[str, bool]) -> dict[str, bool]:
    """Record, for each kind given, whether she wants it by email; unknown kinds are refused."""
    unknown = set(choices) - set(EMAIL_BY_DEFAULT)
    if unknown:
        raise ValueError(f"Unknown notification kinds: {sorted(unknown)}")
    for kind, email in choices.items():
        NotificationPreference.objects.update_or_create(customer=customer, kind=kind, defaults={"email": bool(email)})
    return email_choices(customer=customer)


def terms_proposed(*, intent: Intent, vendor_name: str, title: str) -> None:
    """A vendor proposes another agreement than hers: it waits for her answer before it can bid."""
    notify(
        intent=intent,
        kind=Kind.TERMS,
        text=f"{vendor_name} proposes “{title}” instead of your terms on “{intent.title}”",
        subject=f"{vendor_name} proposes other terms for “{intent.title}”",
        body=f"{vendor_name} would deal with you on “{title}” instead of your terms for “{intent.title}”. "
        "Accept or refuse it:",
    )
