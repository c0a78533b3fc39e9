"""Demo vendors as bots: each polls its inbox through the real vendor API (``VendorClient``)
and bids once on every open request that reaches it, so a person trying the demo sees bids
arrive within seconds."""

from __future__ import annotations

import io
import json
import logging
import random
import threading
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import httpx
from PIL import Image, ImageDraw, ImageFont

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


COLOURS = {
    "silver": (192, 192, 196),
    "black": (30, 30, 34),
    "white": (236, 236, 240),
    "blue": (40, 80, 160),
    "red": (170, 30, 40),
    "grey": (110, 112, 118),
}
# How far a bot will go below its first price when answering a counter or a better offer.
FLOOR = Decimal("0.88")
BEATEN = "Price matched and beaten."


def _bound(value: object, default: int) -> int:
    """A schema bound as a number ("next_year" and the like are the current year here)."""
    if isinstance(value, int | float):
        return int(value)
    return date.today().year if isinstance(value, str) else default


def _listed(value: object) -> list:
    return value if isinstance(value, list) else [value] if value not in (None, "") else []


def offer_for(schema: list[dict], wishes: dict, rng: random.Random, text: str = "") -> dict:
    """The bot's own item as concrete values of the category's attributes: mostly what she asked
    for, now and then not quite (so the comparison has something to show), always within the
    schema's bounds and dependent choices."""
    offer: dict = {}
    for definition in schema:
        name, kind, wish = definition["name"], definition["type"], wishes.get(definition["name"])
        miss = rng.random() < 0.2  # one attribute in five may differ from her wish
        if kind == "enum":
            if definition.get("depends_on"):
                parent = offer.get(definition["depends_on"])
                choices = list((definition.get("choices_by") or {}).get(parent, [])) if parent else []
            else:
                choices = list(definition.get("choices") or [])
            wished = [value for value in _listed(wish) if value in choices]
            # Unstated (a model, say): prefer a choice that allows what she wished further down (a trim).
            fitting = [
                choice
                for choice in choices
                for child in schema
                if child.get("depends_on") == name
                and set(_listed(wishes.get(child["name"]))) & set((child.get("choices_by") or {}).get(choice, []))
            ]
            named = [choice for choice in choices if str(choice).casefold() in text.casefold().split()]
            if wished and not (miss and len(choices) > 1 and name not in ("make", "model")):
                offer[name] = wished[0]
            elif named:  # she named it in her words ("Toyota Yaris")
                offer[name] = named[0]
            elif fitting or choices:
                offer[name] = rng.choice(fitting or choices)
        elif kind == "range":
            low = _bound(definition.get("min"), 2000)
            high = min(_bound(definition.get("max"), date.today().year), date.today().year)
            if isinstance(wish, dict):
                low = max(low, int(wish.get("min", low)))
                high = min(high, int(wish.get("max", high)))
            if low <= high and name == "year":
                offer[name] = rng.randint(max(low, high - 12), high)
        elif kind == "number":
            if isinstance(wish, int | float) and not isinstance(wish, bool):
                if definition.get("compare") == "at_most":
                    value = wish * rng.uniform(1.05, 1.2) if miss else wish * rng.uniform(0.6, 0.98)
                else:
                    value = wish
                offer[name] = round(value, 1) if isinstance(wish, float) else int(value)
            elif name == "mileage":
                offer[name] = rng.randrange(15_000, 90_000, 500)
        elif kind == "boolean":
            offer[name] = (not wish) if miss and wish is not None else (wish if wish is not None else True)
        elif kind == "text" and name == "colour":
            offer[name] = str(wish) if wish and not miss else rng.choice(sorted(COLOURS))
        elif kind == "text" and wish:
            offer[name] = wish
    return offer


def photo_for(offer: dict, title: str) -> bytes:
    """A picture of the offered item, drawn with Pillow: its colour and what it is."""
    colour = COLOURS.get(str(offer.get("colour", "")).lower(), (90, 110, 140))
    image = Image.new("RGB", (960, 600), colour)
    draw = ImageDraw.Draw(image)
    ink = (20, 20, 24) if sum(colour) > 450 else (245, 245, 250)
    draw.rounded_rectangle((180, 260, 780, 420), radius=60, outline=ink, width=10)
    draw.ellipse((260, 380, 380, 500), outline=ink, width=10)
    draw.ellipse((580, 380, 700, 500), outline=ink, width=10)
    label = " ".join(str(offer[key]) for key in ("year", "make", "model", "trim") if key in offer) or title
    draw.text((60, 60), label[:40], fill=ink, font=ImageFont.load_default(size=56))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class Bot:
    """One demo vendor. ``cycle()`` is one look at the inbox and at its own offers; ``run()``
    repeats it until stopped."""

    def __init__(self, name: str, base_url: str, api_key: str, *, seed: int = 0) -> None:
        self.name = name
        self.client = VendorClient(base_url, api_key)
        self.rng = random.Random(seed)
        self.categories: dict[str, dict] = {}
        self.first_price: dict[str, Decimal] = {}  # bid id -> the price it opened with

    def lineage(self, slug: str) -> list[str]:
        """``slug`` and its ancestors, nearest first (the taxonomy is read once, then again
        whenever an unknown category turns up)."""
        if slug not in self.categories:
            self.categories = {c["slug"]: c for c in self.client.categories()}
        chain: list[str] = []
        node: str | None = slug
        while node is not None and node not in chain and node in self.categories:
            chain.append(node)
            node = self.categories[node]["parent"]
        return chain

    def schema(self, lineage: list[str]) -> list[dict]:
        """The attributes of a category: its ancestors' and its own, root first."""
        definitions: dict[str, dict] = {}
        for slug in reversed(lineage):
            for definition in self.categories[slug]["attributes"]:
                definitions[definition["name"]] = definition
        return list(definitions.values())

    def cycle(self) -> int:
        """Offer on every open request in the inbox not offered on yet, answer her counters and,
        in open requests, beat a better price when it can. Returns how many offers were made."""
        placed = 0
        for intent in self.client.inbox(status="open"):
            if intent["bid"] is None:
                placed += self.offer(intent)
            elif intent["bid"]["status"] == "active":
                self.compete(intent)
        for bid in self.client.bids(status="active"):
            self.answer_counter(bid)
        return placed

    def offer(self, intent: dict) -> int:
        lineage = self.lineage(intent["category"])
        currency = intent["budget"]["currency"] if intent.get("budget") else "GBP"
        amount = price_for(intent, self.rng, lineage=lineage)
        pitch = next((PITCH[slug] for slug in lineage if slug in PITCH), "Happy to help; ask us anything.")
        text = f"{intent['title']} {intent['details']}".replace(",", " ")
        offered = offer_for(self.schema(lineage), intent["attributes"], self.rng, text)
        try:
            bid = self.client.place_bid(
                intent["id"],
                amount=str(amount),
                currency=currency,
                message=f"{self.name}: {pitch}",
                offered_attributes=offered,
                # A restart, or a response lost on the way back, never makes a second bid.
                idempotency_key=f"demo-{intent['id']}",
            )
        except VendorApiError as error:
            log.info("%s did not bid on %r: %s", self.name, intent["title"], error)
            return 0
        self.first_price[bid["id"]] = amount
        if "vehicles" in lineage and not bid["photos"]:
            try:
                self.client.add_photo(bid["id"], photo_for(offered, intent["title"]), filename="car.jpg")
            except VendorApiError as error:
                log.info("%s could not add a photo: %s", self.name, error)
        log.info("%s offered %s %s on %r", self.name, amount, currency, intent["title"])
        return 1

    def floor(self, bid: dict) -> Decimal:
        opened = self.first_price.setdefault(bid["id"], Decimal(bid["price"]["amount"]))
        return (opened * FLOOR).quantize(Decimal("1"))

    def compete(self, intent: dict) -> None:
        """In an open request, undercut a better price once it is within reach."""
        market, bid = intent.get("market"), intent["bid"]
        best = market and market.get("best_price")
        if not best or best["currency"] != bid["price"]["currency"]:
            return
        mine, theirs = Decimal(bid["price"]["amount"]), Decimal(best["amount"])
        target = (theirs - 25).quantize(Decimal("1"))
        if theirs < mine and target >= self.floor(bid):
            message = bid["message"] if BEATEN in bid["message"] else f"{bid['message']} {BEATEN}"
            self.client.revise_bid(bid["id"], amount=str(target), message=message)
            log.info("%s improved its offer on %r to %s", self.name, intent["title"], target)

    def answer_counter(self, bid: dict) -> None:
        """Meet her target when it is above our floor, else decline politely."""
        counter = self.client.bid(bid["id"]).get("counter")
        if not counter or counter["status"] != "open":
            return
        target = counter.get("target_price")
        if target and Decimal(target["amount"]) >= self.floor(bid):
            self.client.revise_bid(bid["id"], amount=target["amount"])
            log.info("%s met a counter at %s", self.name, target["amount"])
        elif not target:
            valet = "Happy to include a full valet."
            self.client.revise_bid(
                bid["id"], message=bid["message"] if valet in bid["message"] else f"{bid['message']} {valet}"
            )
        else:
            self.client.decline_counter(bid["id"])
            log.info("%s declined a counter at %s", self.name, target["amount"])

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
