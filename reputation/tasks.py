"""Reputation's periodic task (beat)."""

from __future__ import annotations

from celery import shared_task

from reputation.services import reveal_expired


@shared_task
def reveal_expired_ratings() -> int:
    """Reveal the ratings of deals whose rating window closed with one side silent."""
    return reveal_expired()
