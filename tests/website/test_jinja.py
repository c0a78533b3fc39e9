"""The Jinja2 environment of the offers section (``broker.website.jinja``): its ``date`` filter
shows what Django's engine shows, in the current time zone, including when it formats a minute
once for every moment of it."""

from datetime import UTC, datetime, timedelta

from django.template import Context, Template
from django.utils import timezone

from broker.website.jinja import local_date


def django_date(value, format_string):
    return Template("{{ value|date:format }}").render(Context({"value": value, "format": format_string}))


def test_date_is_djangos_in_the_current_time_zone():
    moment = datetime(2026, 3, 29, 0, 59, 30, tzinfo=UTC)  # British Summer Time starts at 01:00
    for zone in ("Europe/London", "UTC", "Asia/Kolkata"):
        with timezone.override(zone):
            for format_string in ("j M, H:i", "j M Y, H:i", "j M Y, H:i:s", "D j F Y, P"):
                assert local_date(moment, format_string) == django_date(moment, format_string)
                later = moment + timedelta(seconds=45)  # the next minute, and across the change of hour
                assert local_date(later, format_string) == django_date(later, format_string)


def test_a_minute_format_tells_time_zones_apart():
    """The same instant is remembered per zone: two zones never share a formatted minute."""
    moment = datetime(2026, 11, 30, 2, 5, 33, tzinfo=UTC)
    with timezone.override("UTC"):
        in_utc = local_date(moment, "j M, H:i")
    with timezone.override("Asia/Kolkata"):
        in_india = local_date(moment, "j M, H:i")
    assert (in_utc, in_india) == ("30 Nov, 02:05", "30 Nov, 07:35")


def test_seconds_are_never_rounded_to_the_minute():
    first = datetime(2026, 11, 30, 2, 5, 1, tzinfo=UTC)
    with timezone.override("UTC"):
        assert local_date(first, "H:i:s") == "02:05:01"
        assert local_date(first + timedelta(seconds=58), "H:i:s") == "02:05:59"
