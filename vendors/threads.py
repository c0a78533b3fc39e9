"""Message threads between a customer and a vendor about one intent, relayed by the broker.

A thread exists only where the intent was delivered to the vendor. The vendor knows the
customer by its own handle; the customer is emailed when a vendor writes, the vendor gets a
``message.created`` event (and webhook) when she does.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from broker.core.errors import IntentClosed, NotFound
from intents.models import Intent
from intents.notifications import vendor_wrote
from vendors.events import record_vendor_events
from vendors.models import Message, Vendor, VendorEvent
from vendors.payloads import message_for_vendor
from vendors.relationships import ensure_pseudonyms
from vendors.selectors import is_delivered

MAX_BODY = 5000


@transaction.atomic
def post_message(*, intent: Intent, vendor: Vendor, sender: str, body: str) -> Message:
    """Add a message to the thread; the other side is told (email to her, an event to it)."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a message."})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": f"Keep a message under {MAX_BODY} characters."})
    if not is_delivered(intent_id=intent.pk, vendor_id=vendor.pk):
        raise NotFound("No such conversation.")
    if intent.status == Intent.Status.REMOVED:
        raise IntentClosed("This request was removed by a moderator.")
    message = Message.objects.create(intent=intent, vendor=vendor, sender=sender, body=body)
    if sender == Message.Sender.CUSTOMER:
        handle = ensure_pseudonyms(customer_id=intent.customer_id, vendor_ids=[vendor.pk])[vendor.pk]
        record_vendor_events(
            kind=VendorEvent.Kind.MESSAGE_CREATED,
            subject=str(message.pk),
            data_by_vendor={vendor.pk: message_for_vendor(message, handle=handle)},
        )
    else:
        vendor_wrote(intent=intent, vendor_name=vendor.name)
    return message
