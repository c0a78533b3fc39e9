"""Emails to the customer about her own requests. They go to her only; nothing here is sent to
vendors. Each is sent by a Celery task after the transaction commits (``broker.core.mail``)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from broker.core.mail import email_after_commit
from intents.models import Intent


def _request_url(intent: Intent) -> str:
    return f"{settings.SITE_URL}{reverse('intents:detail', args=[intent.pk])}"


def bid_received(*, intent: Intent, vendor_name: str) -> None:
    """Tell the customer a vendor bid on her request, once the bid is committed."""
    email_after_commit(
        to=intent.customer.email,
        subject=f"New bid on “{intent.title}”",
        body=(
            f"{vendor_name} has bid on your request “{intent.title}”.\n\n"
            f"Compare the bids and accept the one you like: {_request_url(intent)}\n"
        ),
    )


def vendor_wrote(*, intent: Intent, vendor_name: str) -> None:
    """Tell the customer a vendor sent her a message about her request."""
    email_after_commit(
        to=intent.customer.email,
        subject=f"{vendor_name} wrote about “{intent.title}”",
        body=f"{vendor_name} sent you a message about “{intent.title}”. Read and reply: {_request_url(intent)}\n",
    )


def counter_answered(*, intent: Intent, vendor_name: str, revised: bool) -> None:
    """Tell the customer how a vendor answered her request for a better offer."""
    answer = "revised its offer" if revised else "will not change its offer"
    email_after_commit(
        to=intent.customer.email,
        subject=f"{vendor_name} {answer} on “{intent.title}”",
        body=f"You asked {vendor_name} for a better offer on “{intent.title}”; it {answer}. "
        f"See the offers: {_request_url(intent)}\n",
    )


def request_removed(*, intent: Intent) -> None:
    """Tell the customer a moderator removed her request, and why."""
    email_after_commit(
        to=intent.customer.email,
        subject=f"Your request “{intent.title}” was removed",
        body=f"A moderator removed your request “{intent.title}”.\n\nThe reason: {intent.removal_reason}\n\n"
        f"Its offers were withdrawn and the vendors were told. {_request_url(intent)}\n",
    )


def terms_proposed(*, intent: Intent, vendor_name: str, title: str) -> None:
    """Tell the customer a vendor proposes another agreement than hers: it waits for her answer
    before it can bid."""
    email_after_commit(
        to=intent.customer.email,
        subject=f"{vendor_name} proposes other terms for “{intent.title}”",
        body=f"{vendor_name} would deal with you on “{title}” instead of your terms for “{intent.title}”. "
        f"Accept or refuse it: {_request_url(intent)}\n",
    )
