"""What each outbox event sets in motion: the table ``settings.INTENTCAST["OUTBOX_HANDLERS"]``
names for ``broker.core.outbox``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from broker.core.outbox import claim_events
from broker.pipeline.fanout import (
    INTENT_DELIVERED,
    INTENT_PART,
    cast_part,
    deliver_intent,
    notify_closed,
    notify_matched,
    reconsider_intent,
)
from intents.services import INTENT_AMENDED, INTENT_CLOSED, INTENT_PUBLISHED
from reputation.services import refresh_behaviour, refresh_intent_behaviour
from vendors.deal import BEHAVIOUR_CHANGED


def on_intent_published(payload: dict[str, Any]) -> None:
    deliver_intent(payload["intent_id"])


def on_intent_part(payload: dict[str, Any]) -> None:
    cast_part(payload)


def on_intent_delivered(payload: dict[str, Any]) -> None:
    """The events of the whole audience, or of one part's vendors (``vendors``: the first and
    last vendor id of the part)."""
    vendors = payload.get("vendors")
    notify_matched(payload["intent_id"], vendor_range=(vendors[0], vendors[1]) if vendors else None)


def on_intent_closed(payload: dict[str, Any]) -> None:
    notify_closed(payload["intent_id"])


def on_intent_amended(payload: dict[str, Any]) -> None:
    reconsider_intent(payload["intent_id"])


# The behaviour events one recompute takes at most (with its own): the rest wait for the next.
BEHAVIOUR_EVENTS_TAKEN = 1000


def on_behaviour_changed(payload: dict[str, Any]) -> None:
    """Recompute the figures of the vendors of this event and of every other one waiting (a kind
    of ``OUTBOX_TAKEN_TOGETHER``): a vendor answering many requests a minute is recomputed once."""
    payloads = [payload, *claim_events(BEHAVIOUR_CHANGED, limit=BEHAVIOUR_EVENTS_TAKEN)]
    for intent_id in dict.fromkeys(p["intent_id"] for p in payloads if p["intent_id"] is not None):
        refresh_intent_behaviour(intent_id=intent_id)
    refresh_behaviour(vendor_ids={vendor_id for p in payloads for vendor_id in p["vendor_ids"]})


HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    INTENT_PUBLISHED: on_intent_published,
    INTENT_PART: on_intent_part,
    INTENT_DELIVERED: on_intent_delivered,
    INTENT_CLOSED: on_intent_closed,
    INTENT_AMENDED: on_intent_amended,
    BEHAVIOUR_CHANGED: on_behaviour_changed,
}
