"""The vendor area's navigation, in order: (url name, label, who sees it). The requests inbox and
the subscriptions editor take their place here when they are built (docs/vendors.md)."""

from typing import Literal

Audience = Literal["everyone", "owner"]

NAV: list[tuple[str, str, Audience]] = [
    ("vendor_site:dashboard", "Dashboard", "everyone"),
    ("vendor_site:keys", "API keys", "everyone"),
    ("vendor_site:webhooks", "Webhooks", "everyone"),
    ("vendor_site:team", "Team", "everyone"),
]


def nav_items(*, is_owner: bool, current: str) -> list[dict]:
    return [
        {"url_name": url_name, "label": label, "current": url_name == current}
        for url_name, label, audience in NAV
        if audience == "everyone" or is_owner
    ]
