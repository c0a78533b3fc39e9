"""The vendor side's periodic tasks (beat): thin, each one transition of the deal."""

from __future__ import annotations

from celery import shared_task

from vendors import deal


@shared_task
def expire_intents() -> int:
    """Close every open request past its expiry (its bids declined, vendors told)."""
    return deal.expire_intents()


@shared_task
def expire_bids() -> int:
    """Every active bid past its ``valid_until`` becomes expired."""
    return deal.expire_bids()
