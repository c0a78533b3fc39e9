"""The vendor area's navigation, in order: (url name, label, who sees it)."""

from typing import Literal

# "pending": shown while the vendor awaits approval too; "approved": once it is approved.
Shown = Literal["pending", "approved"]

NAV: list[tuple[str, str, Shown]] = [
    ("vendor_site:dashboard", "Dashboard", "pending"),
    ("vendor_site:inbox", "Inbox", "approved"),
    ("vendor_site:offers", "Offers & deals", "approved"),
    ("vendor_site:subscriptions", "Subscriptions", "approved"),
    ("vendor_site:keys", "API keys", "approved"),
    ("vendor_site:webhooks", "Webhooks", "approved"),
    ("vendor_site:team", "Team", "pending"),
]


def nav_items(*, approved: bool, current: str) -> list[dict]:
    return [
        {"url_name": url_name, "label": label, "current": url_name == current}
        for url_name, label, shown in NAV
        if shown == "pending" or approved
    ]
