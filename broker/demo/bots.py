"""Demo vendors as bots: each polls its inbox through the real vendor API (``VendorClient``)
and bids once on every open request that reaches it, so a person trying the demo sees bids
arrive within seconds."""

from __future__ import annotations

import json
import logging
import random
import threading
from decimal import ROUND_HALF_UP, Decimal

import httpx

from broker.demo.client import VendorApiError, VendorClient
from broker.demo.seed import keys_path

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


def price_for(intent: dict, rng: random.Random, *, lineage: list[str] | None = None) -> Decimal:
    """Just under her budget when she gave one, else a price typical of the category (or of its
    nearest ancestor with a typical price)."""
    if intent.get("budget"):
        budget = Decimal(intent["budget"]["amount"])
        price = budget * Decimal(str(rng.uniform(0.85, 0.99)))
    else:
        typical = next((TYPICAL_PRICE[slug] for slug in lineage or [intent["category"]] if slug in TYPICAL_PRICE), 200)
        price = Decimal(typical) * Decimal(str(rng.uniform(0.9, 1.2)))
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
    """One demo vendor. ``cycle()`` is one look at the inbox; ``run()`` repeats it until stopped."""

    def __init__(self, name: str, base_url: str, api_key: str, *, seed: int = 0) -> None:
        self.name = name
        self.client = VendorClient(base_url, api_key)
        self.rng = random.Random(seed)
        self.parents: dict[str, str | None] = {}

    def lineage(self, slug: str) -> list[str]:
        """``slug`` and its ancestors, nearest first (the taxonomy is read once, then again
        whenever an unknown category turns up)."""
        if slug not in self.parents:
            self.parents = {c["slug"]: c["parent"] for c in self.client.categories()}
        chain: list[str] = []
        node: str | None = slug
        while node is not None and node not in chain:
            chain.append(node)
            node = self.parents.get(node)
        return chain

    def cycle(self) -> int:
        """Bid on every open intent in the inbox not bid on yet. Returns how many bids were placed."""
        placed = 0
        for intent in self.client.inbox(status="open"):
            if intent["bid"] is not None:
                continue
            lineage = self.lineage(intent["category"])
            currency = intent["budget"]["currency"] if intent.get("budget") else "GBP"
            amount = price_for(intent, self.rng, lineage=lineage)
            pitch = next((PITCH[slug] for slug in lineage if slug in PITCH), "Happy to help; ask us anything.")
            try:
                self.client.place_bid(
                    intent["id"],
                    amount=str(amount),
                    currency=currency,
                    message=f"{self.name}: {pitch}",
                    offered_attributes=offer_for(intent),
                    # A restart, or a response lost on the way back, never makes a second bid.
                    idempotency_key=f"demo-{intent['id']}",
                )
            except VendorApiError as error:
                log.info("%s did not bid on %r: %s", self.name, intent["title"], error)
                continue
            placed += 1
            log.info("%s bid %s %s on %r", self.name, amount, currency, intent["title"])
        return placed

    def run(self, stop: threading.Event, interval: float = 1.5) -> None:
        """Cycle every ``interval`` seconds until ``stop`` is set; wait out a server that is not
        up yet or restarting."""
        down = False
        while not stop.is_set():
            try:
                self.cycle()
            except (httpx.HTTPError, VendorApiError) as error:
                if not down:
                    log.info("%s: cannot reach the API yet (%s); retrying", self.name, error)
                down = True
            else:
                if down:
                    log.info("%s: connected", self.name)
                down = False
            stop.wait(interval)
        self.client.close()


def start_bots(base_url: str, stop: threading.Event, *, interval: float = 1.5) -> list[Bot]:
    """Start one thread per demo vendor in ``var/demo_vendor_keys.json``; they stop with ``stop``."""
    if not keys_path().exists():
        raise FileNotFoundError(f"No demo vendor keys at {keys_path()}: run `python manage.py seed_demo` first.")
    keys = json.loads(keys_path().read_text())
    logging.getLogger("intentcast.demo_bots").setLevel(logging.INFO)
    bots = [Bot(name, base_url, key, seed=n) for n, (name, key) in enumerate(keys.items())]
    for bot in bots:
        threading.Thread(target=bot.run, args=(stop,), kwargs={"interval": interval}, daemon=True).start()
    return bots
