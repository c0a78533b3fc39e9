"""The Jinja2 environment of the website's few Jinja2 templates (``broker/jinja2/``).

Django's own template engine renders every page. Her request page's offers section is the
exception: with 50 offers it lays out some 4,000 cells (the comparison table and the phone's
cards), and Django's engine, which resolves every variable and filter at render time, took most
of the page's time for it. Jinja2 compiles a template to Python once, so the same markup renders
several times faster; Django supports it as a second backend (``settings.TEMPLATES``). The filters
are the project's and Django's own, so a value reads the same in either engine."""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from django.template.defaultfilters import capfirst, floatformat, pluralize, timeuntil_filter
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.timezone import is_aware, localtime
from django.utils.translation import get_language
from jinja2 import Environment

from broker.website.templatetags.money import money
from broker.website.templatetags.reputation_figures import duration_hours, percent

# Format characters whose output changes within a minute (seconds and finer, and the full
# timestamps that include them): a format without any is the same for every moment of a minute.
_FINER_THAN_MINUTES = frozenset("suvUcr")


def local_date(value: Any, format_string: str) -> str:
    """Django's ``date`` filter on the value in the current time zone, as Django's engine shows
    any datetime (it converts before filtering; Jinja2 does not). A format to the minute is
    formatted once per minute, time zone and language: her request page shows some 150 times,
    most of them within a few minutes, and Django's formatter was two fifths of its render."""
    if not isinstance(value, datetime):
        return date_filter(value, format_string)
    local = localtime(value) if is_aware(value) else value
    if _FINER_THAN_MINUTES.intersection(format_string):
        return date_filter(local, format_string)
    minute = local.replace(second=0, microsecond=0, tzinfo=None)
    return _minute_format(minute, local.tzinfo, format_string, get_language())


@lru_cache(maxsize=4096)
def _minute_format(naive: datetime, tzinfo: tzinfo | None, format_string: str, language: str | None) -> str:
    return date_filter(naive.replace(tzinfo=tzinfo), format_string)


def url(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def width_ratio(height: Any, width: Any, target: int) -> str:
    """``{% widthratio height width target %}``: the height at ``target`` wide, "0" if unknown."""
    try:
        return str(round(float(height) / float(width) * target))
    except (ValueError, ZeroDivisionError, TypeError):
        return "0"


def environment(**options: Any) -> Environment:
    env = Environment(**options)  # noqa: S701 (the backend passes autoescape=True)
    env.filters.update(
        {
            "money": money,
            "pluralize": pluralize,
            "floatformat": floatformat,
            "percent": percent,
            "duration_hours": duration_hours,
            "date": local_date,
            "timeuntil": timeuntil_filter,
            "capfirst": capfirst,
        }
    )
    env.globals.update({"url": url, "width_ratio": width_ratio})
    return env
