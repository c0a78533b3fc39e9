"""``{% load reputation_figures %}``: a vendor's behaviour figures for people ("92%", "about 3
hours")."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(share: float | None) -> str:
    """0.923 → "92%"."""
    return "" if share is None else f"{round(share * 100)}%"


@register.filter
def duration_hours(hours: float | None) -> str:
    """A median time in hours, as a person would say it."""
    if hours is None:
        return ""
    if hours < 1:
        return "under an hour"
    if hours < 36:
        whole = round(hours)
        return f"about {whole} hour{'s' if whole != 1 else ''}"
    days = round(hours / 24)
    return f"about {days} days"
