"""Message threads between a customer and a vendor about one intent, relayed by the broker.

A thread exists only where the intent was delivered to the vendor. The vendor knows the
customer by its own handle; the customer is emailed when a vendor writes, the vendor gets a
``message.created`` event (and webhook) when she does.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from broker.errors import IntentClosed, NotFound
from broker.selectors import is_delivered
from intents.models import Intent
from vendors.models import Message, Vendor

MAX_BODY = 5000


def thread(*, intent: Intent, vendor: Vendor) -> QuerySet[Message]:
    return Message.objects.filter(intent=intent, vendor=vendor).order_by("created_at", "id")


def message_payload(message: Message, *, handle: str) -> dict:
    return {
        "id": message.pk,
        "intent": str(message.intent_id),
        "sender": message.sender,
        "customer": handle,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }


@transaction.atomic
def post_message(*, intent: Intent, vendor: Vendor, sender: str, body: str) -> Message:
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
        _tell_vendor(message)
    else:
        from intents.notifications import vendor_wrote

        vendor_wrote(intent=intent, vendor_name=vendor.name)
    return message


def _tell_vendor(message: Message) -> None:
    from broker.events import record_vendor_events
    from broker.models import VendorEvent
    from intents.services import ensure_pseudonyms

    customer_id = message.intent.customer_id
    handle = ensure_pseudonyms(customer_id=customer_id, vendor_ids=[message.vendor_id])[message.vendor_id]
    record_vendor_events(
        kind=VendorEvent.Kind.MESSAGE_CREATED,
        subject=str(message.pk),
        data_by_vendor={message.vendor_id: message_payload(message, handle=handle)},
    )
