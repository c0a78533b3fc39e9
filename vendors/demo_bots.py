"""Demo vendors as bots: each polls its inbox through the real vendor API (``VendorClient``)
and bids once on every open request that reaches it, so a person trying the demo sees bids
arrive within seconds."""

from __future__ import annotations

import logging
import random
import threading
from decimal import ROUND_HALF_UP, Decimal

import httpx

from vendors.client import VendorApiError, VendorClient

log = logging.getLogger("intentcast.demo_bots")

TYPICAL_PRICE = {
    "cars": 4500,
    "vans": 9000,
    "motorbikes": 2500,
    "phones": 350,
    "smartphones": 450,
    "phone-plans": 15,
    "home-services": 180,
    "plumbing": 160,
    "electrical": 140,
    "cleaning": 120,
    "travel": 600,
    "flights": 240,
    "hotels": 420,
}
PITCH = {
    "cars": "We have one on the forecourt that fits: HPI-clear, full service history, 12 months MOT.",
    "phones": "Boxed, with a 12-month warranty and free next-day delivery.",
    "home-services": "Fully insured, can come this week, fixed price.",
    "travel": "Flexible booking, ATOL protected.",
}


def price_for(intent: dict, rng: random.Random) -> Decimal:
    """Just under her budget when she gave one, else a price typical of the category."""
    if intent.get("budget"):
        budget = Decimal(intent["budget"]["amount"])
        price = budget * Decimal(str(rng.uniform(0.85, 0.99)))
    else:
        price = Decimal(TYPICAL_PRICE.get(intent["category"], 200)) * Decimal(str(rng.uniform(0.9, 1.2)))
    return price.quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def offer_for(intent: dict) -> dict:
    """Offer what she asked for; of several acceptable values, the first."""
    offered = {}
    for name, value in intent["attributes"].items():
        if isinstance(value, list):
            value = value[:1]
        offered[name] = value
    return offered


class Bot:
    def __init__(self, name: str, base_url: str, api_key: str, *, seed: int = 0) -> None:
        self.name = name
        self.client = VendorClient(base_url, api_key)
        self.rng = random.Random(seed)

    def cycle(self) -> int:
        """Bid on every open intent in the inbox not bid on yet. Returns how many bids were placed."""
        placed = 0
        for intent in self.client.inbox(status="open"):
            if intent["bid"] is not None:
                continue
            currency = intent["budget"]["currency"] if intent.get("budget") else "GBP"
            top = (
                intent["category"]
                if intent["category"] in PITCH
                else next((key for key in PITCH if intent["category"].startswith(key[:4])), "")
            )
            try:
                self.client.place_bid(
                    intent["id"],
                    amount=str(price_for(intent, self.rng)),
                    currency=currency,
                    message=f"{self.name}: {PITCH.get(top, 'Happy to help; ask us anything.')}",
                    offered_attributes=offer_for(intent),
                    idempotency_key=f"demo-{intent['id']}",
                )
            except VendorApiError as error:
                log.info("%s did not bid on %s: %s", self.name, intent["id"], error)
                continue
            placed += 1
            log.info("%s bid on %r", self.name, intent["title"])
        return placed

    def run(self, stop: threading.Event, interval: float = 1.5) -> None:
        while not stop.is_set():
            try:
                self.cycle()
            except (httpx.HTTPError, VendorApiError) as error:  # the server is starting or restarting
                log.debug("%s: %s", self.name, error)
            stop.wait(interval)
        self.client.close()
