"""A small client for the vendor API (v1), used by the demo bots and usable by any vendor.

client = VendorClient("https://intentcast.example", api_key)
for intent in client.inbox(status="open"):
    client.place_bid(intent["id"], amount="3750.00", currency="GBP", idempotency_key=f"bid-{intent['id']}")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx


class VendorApiError(Exception):
    """The API refused a request; ``code``, ``message`` and ``fields`` come from its error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code: str = error.get("code", "error")
        self.message: str = error.get("message", f"HTTP {status}")
        self.fields: dict[str, Any] = error.get("fields", {})
        super().__init__(f"{status} {self.code}: {self.message}" + (f" {self.fields}" if self.fields else ""))


class VendorClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0, transport=None) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1/",
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> VendorClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise VendorApiError(response.status_code, body)
        return response.json() if response.content else None

    def _pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        page = self._request("GET", path, params={k: v for k, v in (params or {}).items() if v is not None})
        while True:
            yield from page["results"]
            if not page.get("next"):
                return
            page = self._request("GET", page["next"])

    def me(self) -> dict:
        return self._request("GET", "me/")

    def categories(self) -> list[dict]:
        return list(self._pages("categories/"))

    def regions(self, *, parent: str | None = None, kind: str | None = None) -> Iterator[dict]:
        return self._pages("regions/", {"parent": parent, "kind": kind})

    def subscriptions(self) -> Iterator[dict]:
        return self._pages("subscriptions/")

    def create_subscription(self, **fields) -> dict:
        return self._request("POST", "subscriptions/", json=fields)

    def update_subscription(self, subscription_id: str, **fields) -> dict:
        return self._request("PATCH", f"subscriptions/{subscription_id}/", json=fields)

    def delete_subscription(self, subscription_id: str) -> None:
        self._request("DELETE", f"subscriptions/{subscription_id}/")

    def inbox(
        self, *, status: str | None = None, category: str | None = None, since: str | None = None
    ) -> Iterator[dict]:
        return self._pages("intents/", {"status": status, "category": category, "since": since})

    def intent(self, intent_id: str) -> dict:
        return self._request("GET", f"intents/{intent_id}/")

    def pass_intent(self, intent_id: str, *, reason: str = "") -> None:
        self._request("POST", f"intents/{intent_id}/pass/", json={"reason": reason} if reason else {})

    def place_bid(
        self,
        intent_id: str,
        *,
        amount: str,
        currency: str,
        message: str = "",
        offered_attributes: dict | None = None,
        valid_until: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict:
        body = {
            "intent": intent_id,
            "amount": amount,
            "currency": currency,
            "message": message,
            "offered_attributes": offered_attributes or {},
        }
        if valid_until:
            body["valid_until"] = valid_until
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._request("POST", "bids/", json=body, headers=headers)

    def bids(self, *, status: str | None = None) -> Iterator[dict]:
        return self._pages("bids/", {"status": status})

    def bid(self, bid_id: str) -> dict:
        """One of your bids, with her open counter (``counter``), if any."""
        return self._request("GET", f"bids/{bid_id}/")

    def revise_bid(self, bid_id: str, **changes) -> dict:
        return self._request("PATCH", f"bids/{bid_id}/", json=changes)

    def decline_counter(self, bid_id: str) -> dict:
        return self._request("POST", f"bids/{bid_id}/counter/decline/")

    def add_photo(self, bid_id: str, content: bytes, *, filename: str = "photo.jpg") -> dict:
        return self._request("POST", f"bids/{bid_id}/photos/", files={"photo": (filename, content)})

    def mark_outcome(self, bid_id: str, outcome: str, *, reason: str = "") -> dict:
        return self._request("POST", f"bids/{bid_id}/outcome/", json={"outcome": outcome, "reason": reason})

    def withdraw_bid(self, bid_id: str) -> dict:
        return self._request("DELETE", f"bids/{bid_id}/")

    def messages(self, intent_id: str) -> Iterator[dict]:
        return self._pages(f"intents/{intent_id}/messages/")

    def send_message(self, intent_id: str, body: str) -> dict:
        return self._request("POST", f"intents/{intent_id}/messages/", json={"body": body})

    def events(self) -> Iterator[dict]:
        return self._pages("events/")
