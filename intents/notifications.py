"""Emails to the customer about her own requests. They go to her only; nothing here is sent to
vendors."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from intents.models import Intent


def _request_url(intent: Intent) -> str:
    return f"{settings.SITE_URL}{reverse('intents:detail', args=[intent.pk])}"


def bid_received(*, intent: Intent, vendor_name: str) -> None:
    """Tell the customer a vendor bid on her request, once the bid is committed."""
    customer = intent.customer
    if not customer.email:
        return
    subject = f"New bid on “{intent.title}”"
    body = (
        f"{vendor_name} has bid on your request “{intent.title}”.\n\n"
        f"Compare the bids and accept the one you like: {_request_url(intent)}\n"
    )
    transaction.on_commit(lambda: send_mail(subject, body, None, [customer.email], fail_silently=True))


def vendor_wrote(*, intent: Intent, vendor_name: str) -> None:
    """Tell the customer a vendor sent her a message about her request."""
    customer = intent.customer
    if not customer.email:
        return
    subject = f"{vendor_name} wrote about “{intent.title}”"
    body = f"{vendor_name} sent you a message about “{intent.title}”. Read and reply: {_request_url(intent)}\n"
    transaction.on_commit(lambda: send_mail(subject, body, None, [customer.email], fail_silently=True))
