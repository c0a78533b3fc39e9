"""What each outbox event sets in motion: the table ``settings.INTENTCAST["OUTBOX_HANDLERS"]``
names for ``broker.core.outbox``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from broker.pipeline.fanout import INTENT_DELIVERED, deliver_intent, notify_closed, notify_matched, reconsider_intent
from intents.services import INTENT_AMENDED, INTENT_CLOSED, INTENT_PUBLISHED
from reputation.services import refresh_behaviour, refresh_intent_behaviour
from vendors.deal import BEHAVIOUR_CHANGED


def on_intent_published(payload: dict[str, Any]) -> None:
    deliver_intent(payload["intent_id"])


def on_intent_delivered(payload: dict[str, Any]) -> None:
    notify_matched(payload["intent_id"])


def on_intent_closed(payload: dict[str, Any]) -> None:
    notify_closed(payload["intent_id"])


def on_intent_amended(payload: dict[str, Any]) -> None:
    reconsider_intent(payload["intent_id"])


def on_behaviour_changed(payload: dict[str, Any]) -> None:
    if payload["intent_id"] is not None:
        refresh_intent_behaviour(intent_id=payload["intent_id"])
    refresh_behaviour(vendor_ids=payload["vendor_ids"])


HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    INTENT_PUBLISHED: on_intent_published,
    INTENT_DELIVERED: on_intent_delivered,
    INTENT_CLOSED: on_intent_closed,
    INTENT_AMENDED: on_intent_amended,
    BEHAVIOUR_CHANGED: on_behaviour_changed,
}
