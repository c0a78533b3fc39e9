"""Reputation's periodic tasks (beat)."""

from __future__ import annotations

from celery import shared_task

from reputation.services import detect_rings, recompute_all, reveal_expired, sweep_behaviour


@shared_task
def reveal_expired_ratings() -> int:
    """Reveal the ratings of deals whose rating window closed with one side silent."""
    return reveal_expired()


@shared_task
def recompute_reputation() -> dict[str, int]:
    """Refresh the market's prior and recompute every stored score (decay moves with time)."""
    return recompute_all()


@shared_task
def detect_rating_rings() -> int:
    """Hold suspected rating rings for a moderator; returns how many flags were opened or grew."""
    return len(detect_rings())


@shared_task
def sweep_vendor_behaviour() -> int:
    """Recompute the behaviour figures of vendors whose deliveries became due an answer since the
    last run; returns how many vendors were recomputed."""
    return sweep_behaviour()
