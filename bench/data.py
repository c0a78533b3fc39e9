"""Generated data for the benchmarks: a category taxonomy, the real ISO regions, benchmark
requests, planted vendors that match them, and a realistic background of subscriptions loaded
with PostgreSQL COPY (the ORM would take hours at a million rows).

The background is random but reproducible (seeded). None of its subscriptions is even an index
candidate for a benchmark request, so at every size each request matches exactly the planted
target vendors, and the planted decoys (candidates that fail one rule each) are the same too.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from broker.core.keywords import text_stems
from intents.attributes import clean_attributes
from intents.models import Category, Intent, Region
from intents.taxonomy import category_schema, load_regions
from vendors.models import Block, Subscription, SubscriptionKey, Vendor
from vendors.services import create_vendor, save_subscription, subscription_key_rows

# The taxonomy ------------------------------------------------------------------------------

VEHICLE_SCHEMA = [
    {"name": "make", "label": "Make", "type": "enum", "choices": ["Toyota", "Ford", "Honda", "Volkswagen", "BMW"]},
    {"name": "model", "label": "Model", "type": "text"},
    {"name": "year", "label": "Year", "type": "range"},
    {"name": "mileage", "label": "Mileage", "type": "number", "unit": "mi"},
    {"name": "fuel", "label": "Fuel", "type": "enum", "choices": ["petrol", "diesel", "hybrid", "electric"]},
    {"name": "doors", "label": "Doors", "type": "number"},
    {"name": "aircon", "label": "Air conditioning", "type": "boolean"},
    {"name": "colour", "label": "Colour", "type": "text"},
]
ELECTRONICS_SCHEMA = [
    {"name": "brand", "label": "Brand", "type": "enum", "choices": ["Apple", "Samsung", "Sony", "Lenovo", "LG"]},
    {"name": "storage_gb", "label": "Storage", "type": "number", "unit": "GB"},
    {"name": "condition", "label": "Condition", "type": "enum", "choices": ["new", "refurbished", "used"]},
    {"name": "warranty", "label": "Warranty", "type": "boolean"},
]
PROPERTY_SCHEMA = [
    {"name": "bedrooms", "label": "Bedrooms", "type": "number"},
    {"name": "furnished", "label": "Furnished", "type": "boolean"},
    {"name": "kind", "label": "Kind", "type": "enum", "choices": ["flat", "house", "studio", "room"]},
    {"name": "floor_area", "label": "Floor area", "type": "number", "unit": "m2"},
]
TRAVEL_SCHEMA = [
    {"name": "nights", "label": "Nights", "type": "number"},
    {"name": "travellers", "label": "Travellers", "type": "number"},
    {"name": "board", "label": "Board", "type": "enum", "choices": ["room only", "breakfast", "half", "full"]},
    {"name": "dates", "label": "Dates", "type": "range"},
]
SERVICES_SCHEMA = [
    {"name": "hours", "label": "Hours", "type": "number"},
    {"name": "urgency", "label": "Urgency", "type": "enum", "choices": ["today", "this week", "flexible"]},
    {"name": "insured", "label": "Insured", "type": "boolean"},
]
HOME_SCHEMA = [
    {"name": "material", "label": "Material", "type": "text"},
    {"name": "width_cm", "label": "Width", "type": "number", "unit": "cm"},
    {"name": "assembly", "label": "Assembly", "type": "boolean"},
]
FASHION_SCHEMA = [
    {
        "name": "size",
        "label": "Size",
        "type": "enum",
        "choices": ["XS", "S", "M", "L", "XL", "36", "38", "40", "42", "44"],
    },
    {"name": "colour", "label": "Colour", "type": "text"},
    {"name": "second_hand", "label": "Second hand", "type": "boolean"},
]
SPORTS_SCHEMA = [
    {"name": "brand", "label": "Brand", "type": "text"},
    {"name": "condition", "label": "Condition", "type": "enum", "choices": ["new", "used"]},
    {"name": "size_cm", "label": "Size", "type": "number", "unit": "cm"},
]

# root -> (schema, {mid: [leaves]}, vocabulary for keywords)
TAXONOMY: dict[str, tuple[list, dict[str, list[str]], list[str]]] = {
    "vehicles": (
        VEHICLE_SCHEMA,
        {
            "cars": ["hatchbacks", "saloons", "estates", "suvs", "convertibles", "coupes"],
            "vans": ["panel-vans", "minibuses", "pickups", "campervans"],
            "motorbikes": ["scooters", "sports-bikes", "tourers", "off-road"],
            "vehicle-parts": ["tyres", "batteries", "exhausts", "car-audio"],
            "vehicle-hire": ["car-hire", "van-hire", "chauffeurs"],
        },
        [
            "yaris",
            "corolla",
            "golf",
            "polo",
            "fiesta",
            "focus",
            "civic",
            "jazz",
            "hatchback",
            "estate",
            "diesel",
            "petrol",
            "hybrid",
            "automatic",
            "manual",
            "convertible",
            "sunroof",
            "towbar",
            "low mileage",
            "full service history",
            "four wheel drive",
            "camper",
            "transit",
            "sprinter",
            "scooter",
            "helmet",
            "winter tyres",
            "tesla",
            "leaf",
            "zoe",
            "bmw",
            "audi",
            "mercedes",
            "volvo",
            "skoda",
            "seat",
        ],
    ),
    "electronics": (
        ELECTRONICS_SCHEMA,
        {
            "phones": ["smartphones", "feature-phones", "phone-cases", "chargers"],
            "computers": ["laptops", "desktops", "tablets", "monitors", "printers"],
            "audio-video": ["televisions", "headphones", "speakers", "projectors", "cameras"],
            "gaming": ["consoles", "games", "gaming-pcs"],
        },
        [
            "iphone",
            "pixel",
            "galaxy",
            "android",
            "refurbished",
            "unlocked",
            "macbook",
            "thinkpad",
            "gaming",
            "ssd",
            "oled",
            "4k",
            "soundbar",
            "noise cancelling",
            "bluetooth",
            "playstation",
            "xbox",
            "switch",
            "mirrorless",
            "drone",
            "ipad",
            "kindle",
            "monitor",
            "keyboard",
            "printer",
            "router",
        ],
    ),
    "property": (
        PROPERTY_SCHEMA,
        {
            "rentals": ["flats-to-rent", "houses-to-rent", "rooms", "holiday-lets"],
            "sales": ["flats-for-sale", "houses-for-sale", "land", "new-builds"],
            "commercial": ["offices", "shops", "warehouses"],
        },
        [
            "flat",
            "studio",
            "garden",
            "balcony",
            "parking",
            "furnished",
            "pet friendly",
            "garage",
            "loft",
            "detached",
            "terraced",
            "bungalow",
            "penthouse",
            "sea view",
            "office",
            "warehouse",
            "shop",
        ],
    ),
    "travel": (
        TRAVEL_SCHEMA,
        {
            "holidays": ["package-holidays", "city-breaks", "cruises", "ski-trips"],
            "accommodation": ["hotels", "hostels", "apartments", "camping"],
            "transport": ["flights", "trains", "ferries", "coaches"],
        },
        [
            "beach",
            "ski",
            "cruise",
            "all inclusive",
            "city break",
            "honeymoon",
            "family",
            "hotel",
            "hostel",
            "flight",
            "return flight",
            "business class",
            "ferry",
            "interrail",
            "camping",
            "spa",
        ],
    ),
    "services": (
        SERVICES_SCHEMA,
        {
            "trades": ["plumbing", "electricians", "builders", "roofers", "painters", "carpenters"],
            "moving": ["removals", "storage", "man-and-van"],
            "cleaning": ["domestic-cleaning", "office-cleaning", "carpet-cleaning"],
            "lessons": ["music-lessons", "language-lessons", "tutoring", "driving-lessons"],
            "professional": ["accountants", "lawyers", "translators", "photographers"],
        },
        [
            "boiler",
            "leak",
            "rewire",
            "extension",
            "roof",
            "painting",
            "decorating",
            "removal",
            "storage",
            "cleaning",
            "end of tenancy",
            "piano",
            "guitar",
            "spanish",
            "maths",
            "tax return",
            "wedding",
            "conveyancing",
            "translation",
            "emergency",
        ],
    ),
    "home-garden": (
        HOME_SCHEMA,
        {
            "furniture": ["sofas", "beds", "tables", "chairs", "wardrobes"],
            "appliances": ["washing-machines", "fridges", "ovens", "dishwashers"],
            "garden": ["lawnmowers", "sheds", "plants", "garden-furniture"],
            "diy": ["power-tools", "hand-tools", "paint", "flooring"],
        },
        [
            "sofa",
            "corner sofa",
            "oak",
            "leather",
            "bed frame",
            "mattress",
            "dining table",
            "wardrobe",
            "washing machine",
            "fridge freezer",
            "dishwasher",
            "lawnmower",
            "shed",
            "drill",
            "laminate",
        ],
    ),
    "fashion": (
        FASHION_SCHEMA,
        {
            "clothing": ["coats", "dresses", "suits", "jeans", "knitwear"],
            "shoes": ["trainers", "boots", "formal-shoes", "sandals"],
            "accessories": ["bags", "watches", "jewellery", "sunglasses"],
        },
        [
            "vintage",
            "designer",
            "wool",
            "cashmere",
            "denim",
            "leather jacket",
            "wedding dress",
            "trainers",
            "boots",
            "handbag",
            "watch",
            "gold",
            "silver",
            "sunglasses",
        ],
    ),
    "sports": (
        SPORTS_SCHEMA,
        {
            "cycling": ["road-bikes", "mountain-bikes", "e-bikes", "bike-parts"],
            "fitness": ["treadmills", "weights", "yoga", "rowing-machines"],
            "outdoor": ["tents", "climbing", "fishing", "kayaks"],
        },
        [
            "road bike",
            "carbon",
            "ebike",
            "mountain bike",
            "treadmill",
            "dumbbells",
            "yoga mat",
            "tent",
            "climbing shoes",
            "fishing rod",
            "kayak",
            "wetsuit",
            "golf clubs",
            "tennis racket",
        ],
    ),
}
ROOT_WEIGHTS = {"vehicles": 5, "electronics": 4, "services": 5, "property": 3, "home-garden": 3,
                "travel": 2, "fashion": 2, "sports": 2}  # fmt: skip
CURRENCIES = ["GBP", "EUR", "USD", "JPY", "AUD", "CAD", "BRL", "PLN", "INR", "CHF"]


@dataclass
class Taxonomy:
    by_slug: dict[str, Category]
    root_of: dict[int, str]  # category id -> root slug
    levels: dict[str, dict[str, list[int]]]  # root -> {"root": [...], "mid": [...], "leaf": [...]}
    ancestors: dict[int, frozenset[int]]
    regions: dict[str, Region]  # by code
    countries: list[tuple[str, int, list[int]]]  # (code, country region id, subdivision region ids)
    lft_rgt: dict[int, tuple[int, int]]  # region id -> (lft, rgt)


def build_taxonomy() -> Taxonomy:
    """~160 categories in three levels, with attribute schemas on the roots, and every ISO 3166
    country and subdivision."""
    by_slug: dict[str, Category] = {}
    for root, (schema, mids, _vocab) in TAXONOMY.items():
        top = Category.objects.add_root(
            instance=Category(slug=root, name=root.replace("-", " ").title(), attributes=schema)
        )
        by_slug[root] = top
        for mid, leaves in mids.items():
            node = Category.objects.add_child(top, instance=Category(slug=mid, name=mid.replace("-", " ").title()))
            by_slug[mid] = node
            for leaf in leaves:
                child = Category.objects.add_child(
                    node, instance=Category(slug=leaf, name=leaf.replace("-", " ").title())
                )
                by_slug[leaf] = child
    load_regions()
    return read_taxonomy()


def read_taxonomy() -> Taxonomy:
    by_slug = {c.slug: c for c in Category.objects.all()}
    by_path = {c.path: c for c in by_slug.values()}
    root_of: dict[int, str] = {}
    levels: dict[str, dict[str, list[int]]] = {}
    ancestors: dict[int, frozenset[int]] = {}
    for category in by_slug.values():
        # The treebeard path's prefixes, one step at a time, are the ancestors (root first).
        path = [
            by_path[category.path[:end]].pk for end in range(Category.steplen, len(category.path) + 1, Category.steplen)
        ]
        root_slug = by_path[category.path[: Category.steplen]].slug
        root_of[category.pk] = root_slug
        ancestors[category.pk] = frozenset(path)
        level = ("root", "mid", "leaf")[category.depth - 1]
        levels.setdefault(root_slug, {"root": [], "mid": [], "leaf": []})[level].append(category.pk)

    regions = {r.code: r for r in Region.objects.all()}
    lft_rgt = {r.pk: (r.lft, r.rgt) for r in regions.values()}
    countries = []
    by_country: dict[int, list[int]] = {}
    for r in regions.values():
        if r.kind == Region.Kind.SUBDIVISION:
            by_country.setdefault(regions[r.code.split("-")[0]].pk, []).append(r.pk)
    for r in sorted(regions.values(), key=lambda r: r.code):
        if r.kind == Region.Kind.COUNTRY:
            countries.append((r.code, r.pk, sorted(by_country.get(r.pk, []))))
    return Taxonomy(by_slug, root_of, levels, ancestors, regions, countries, lft_rgt)


# Benchmark requests ------------------------------------------------------------------------

# (category slug, region code, title, details, attributes, budget, currency)
REQUESTS = [
    ("hatchbacks", "GB-LND", "Low-mileage Toyota Yaris, T3 or TR spec, silver",
     "Aircon, ideally the 1.3 petrol, five doors.",
     {"make": "Toyota", "model": "Yaris", "mileage": 40000, "fuel": "petrol", "doors": 5, "aircon": True,
      "year": {"min": 2003, "max": 2006}}, "4000", "GBP"),
    ("estates", "GB-MAN", "Honda Civic estate with a towbar", "Manual gearbox, full service history.",
     {"make": "Honda", "mileage": 70000, "fuel": "diesel", "aircon": True}, "6500", "GBP"),
    ("suvs", "FR-75C", "Volkswagen Tiguan automatic SUV", "Hybrid preferred, panoramic roof.",
     {"make": "Volkswagen", "fuel": "hybrid", "doors": 5}, "22000", "EUR"),
    ("panel-vans", "DE-BY", "Used panel van for a removals business", "Long wheelbase, low mileage diesel.",
     {"make": "Volkswagen", "mileage": 90000, "fuel": "diesel"}, "15000", "EUR"),
    ("scooters", "ES-M", "125cc scooter for commuting in Madrid", "With a top box and a helmet.",
     {"make": "Honda", "fuel": "petrol"}, "2500", "EUR"),
    ("smartphones", "IT-MI", "Refurbished iPhone 13, 128GB, unlocked", "Any colour, with a warranty.",
     {"brand": "Apple", "storage_gb": 128, "condition": "refurbished", "warranty": True}, "450", "EUR"),
    ("laptops", "US-CA", "Lightweight laptop for travel and writing", "16GB memory, good battery, SSD.",
     {"brand": "Lenovo", "storage_gb": 512, "condition": "new"}, "1200", "USD"),
    ("televisions", "JP-13", "65 inch OLED television", "Wall mount and delivery to Shibuya.",
     {"brand": "Sony", "condition": "new"}, "250000", "JPY"),
    ("flats-to-rent", "IE-D", "Two bedroom flat to rent near the city centre", "Furnished, with parking.",
     {"bedrooms": 2, "furnished": True, "kind": "flat"}, "2200", "EUR"),
    ("houses-for-sale", "NL-NH", "Family house with a garden", "Three bedrooms, near a good school.",
     {"bedrooms": 3, "kind": "house", "floor_area": 120}, "550000", "EUR"),
    ("hotels", "AU-NSW", "Hotel in Sydney for a family of four", "Five nights in January, breakfast.",
     {"nights": 5, "travellers": 4, "board": "breakfast"}, "3000", "AUD"),
    ("flights", "CA-ON", "Return flight Toronto to Lisbon", "Two adults, flexible dates in May.",
     {"travellers": 2}, "1800", "CAD"),
    ("plumbing", "GB-ENG", "Boiler service and a small leak repair", "Combi boiler, leak under the sink.",
     {"hours": 3, "urgency": "this week", "insured": True}, "300", "GBP"),
    ("removals", "FR", "Removal from Lyon to Bordeaux", "Three bedroom house, packing included.",
     {"hours": 10, "urgency": "flexible"}, "2500", "EUR"),
    ("sofas", "PL-14", "Corner sofa in grey fabric", "Delivery and assembly in Warsaw.",
     {"material": "fabric", "width_cm": 280, "assembly": True}, "4000", "PLN"),
    ("trainers", "BR-SP", "Running trainers size 42", "Neutral cushioning for road running.",
     {"size": "42", "second_hand": False}, "600", "BRL"),
]  # fmt: skip


@dataclass
class RequestKeys:
    """What decides whether a subscription is an index candidate for a request."""

    intent: Intent
    ancestors: frozenset[int]
    lft: int
    rgt: int
    stems: frozenset[str]


def create_requests(tax: Taxonomy, customer) -> list[RequestKeys]:
    out = []
    for slug, code, title, details, attributes, budget, currency in REQUESTS:
        category, region = tax.by_slug[slug], tax.regions[code]
        intent = Intent.objects.create(
            customer=customer,
            title=title,
            details=details,
            category=category,
            region=region,
            attributes=clean_attributes(category_schema(category), attributes),
            budget_max=Decimal(budget),
            currency=currency,
            terms={"contact_through_broker_only": True, "no_marketing": True, "delete_data_after_days": 90},
            expires_at=timezone.now() + timedelta(days=14),
        )
        intent = Intent.objects.select_related("category", "region").get(pk=intent.pk)
        out.append(
            RequestKeys(
                intent=intent,
                ancestors=frozenset(category.ancestor_ids),
                lft=region.lft,
                rgt=region.rgt,
                stems=frozenset(text_stems(f"{title}\n{details}", "en")),
            )
        )
    return out


# Planted vendors: targets match every request, decoys are candidates that fail a rule ------

# Filters that admit every benchmark request (a request that leaves the attribute empty is
# admitted): each target with filters takes one or two whose attribute its categories know.
ADMITTING_FILTERS = [
    {"mileage": {"max": 150000}},
    {"aircon": {"eq": True}},
    {"fuel": {"in": ["petrol", "diesel", "hybrid"]}},
    {"storage_gb": {"min": 64}},
    {"condition": {"in": ["new", "refurbished"]}},
    {"bedrooms": {"min": 1, "max": 5}},
    {"travellers": {"max": 8}},
    {"hours": {"max": 40}},
    {"insured": {"eq": True}},
    {"year": {"min": 2000}},
]
N_TARGETS = 50


@dataclass
class Planted:
    targets: set[int] = field(default_factory=set)
    decoys: dict[str, int] = field(default_factory=dict)
    subscriptions: int = 0
    active_subscriptions: int = 0


def _covering_shape(rng: random.Random, tax: Taxonomy, requests: list[RequestKeys]) -> tuple[list, list]:
    """Categories and regions that reach every request, each at a randomly chosen level."""
    categories, regions = {}, {}
    for request in requests:
        path = request.intent.category.ancestor_ids
        category_id = rng.choice(path)
        categories[category_id] = Category.objects.get(pk=category_id)
        region = request.intent.region
        options = list(Region.objects.filter(lft__lte=region.lft, rgt__gte=region.rgt))  # itself and ancestors
        inside = list(Region.objects.filter(lft__gt=region.lft, rgt__lt=region.rgt)[:5])  # a dealer inside it
        if inside and rng.random() < 0.3:
            options = inside
        chosen = rng.choice(options)
        regions[chosen.pk] = chosen
    return list(categories.values()), list(regions.values())


def plant_vendors(tax: Taxonomy, requests: list[RequestKeys], customer, *, seed: int = 7) -> Planted:
    """``N_TARGETS`` approved vendors whose subscriptions reach every request, through the real
    services (validation and indexing), plus one decoy per rule the index cannot decide."""
    rng = random.Random(seed)
    planted = Planted()
    for n in range(N_TARGETS):
        vendor = create_vendor(name=f"Target {n}", contact_email=f"target{n}@bench.example", approve=True)
        categories, regions = _covering_shape(rng, tax, requests)
        data: dict = {"categories": categories, "regions": regions, "name": f"target {n}"}
        if rng.random() < 0.3:  # one keyword (or a phrase from the title) per request
            keywords = []
            for request in requests:
                words = [w for w in request.intent.title.replace(",", " ").split() if len(w) > 3]
                start = rng.randrange(len(words))
                keywords.append(" ".join(words[start : start + rng.choice((1, 1, 2))]))
            data["keywords"] = keywords
        if rng.random() < 0.3:
            from intents.taxonomy import categories_filter_schema

            known = {d["name"] for d in categories_filter_schema(categories)}
            usable = [f for f in ADMITTING_FILTERS if next(iter(f)) in known]
            if usable:
                data["attribute_filters"] = {
                    k: v for f in rng.sample(usable, min(2, len(usable))) for k, v in f.items()
                }
        if rng.random() < 0.2:
            data["min_budget"], data["min_budget_currency"] = Decimal("100"), rng.choice(["GBP", "EUR", "USD"])
        if rng.random() < 0.1:
            data["daily_cap"] = 1000
        save_subscription(vendor=vendor, **data)
        if n % 10 == 0:  # some vendors hold two subscriptions that both match: still one delivery
            categories, regions = _covering_shape(rng, tax, requests)
            save_subscription(vendor=vendor, categories=categories, regions=regions, name="second")
        planted.targets.add(vendor.pk)

    everything = {"categories": [tax.by_slug[r] for r in TAXONOMY], "regions": [tax.regions[c] for c in
                  ("GB", "FR", "DE", "ES", "IT", "US", "JP", "IE", "NL", "AU", "CA", "PL", "BR")]}  # fmt: skip

    def decoy(name: str, *, status: str = Vendor.Status.APPROVED, active: bool = True, **data) -> Subscription:
        vendor = create_vendor(name=f"Decoy {name}", contact_email=f"decoy-{name}@bench.example")
        Vendor.objects.filter(pk=vendor.pk).update(status=status)
        subscription = save_subscription(vendor=vendor, name=name, **{**everything, **data})
        if not active:
            Subscription.objects.filter(pk=subscription.pk).update(active=False)
        planted.decoys[name] = vendor.pk
        return subscription

    decoy("pending vendor", status=Vendor.Status.PENDING)
    decoy("suspended vendor", status=Vendor.Status.SUSPENDED)
    decoy("inactive subscription", active=False)
    # Indexed under "toyota" (its longest stem), which a request has; "hilux" no request has.
    decoy("keyword phrase", keywords=["toyota hilux"])
    decoy("keyword elsewhere", keywords=["lamborghini"])
    cars = tax.by_slug["cars"]
    decoy("filter make", categories=[cars], attribute_filters={"make": {"in": ["Ford", "BMW"]}})
    decoy(
        "filter aircon",
        categories=[tax.by_slug["hatchbacks"], tax.by_slug["estates"]],
        attribute_filters={"aircon": {"eq": False}},
    )
    decoy(
        "filter storage",
        categories=[tax.by_slug["phones"], tax.by_slug["computers"]],
        attribute_filters={"storage_gb": {"max": 64}},
    )
    decoy("min budget", regions=[tax.regions["GB"]], min_budget=Decimal("1000000"), min_budget_currency="GBP")
    capped = decoy("daily cap reached", daily_cap=1)
    other = Intent.objects.create(
        customer=customer,
        title="Earlier request",
        category=cars,
        region=tax.regions["GB-LND"],
        expires_at=timezone.now() + timedelta(days=1),
    )
    from vendors.models import Delivery

    Delivery.objects.create(intent=other, vendor_id=capped.vendor_id, subscription=capped)
    Intent.objects.filter(pk=other.pk).update(status=Intent.Status.WITHDRAWN)
    blocked = decoy("blocked by customer")
    Block.objects.create(customer=customer, vendor_id=blocked.vendor_id, blocked_by=Block.Side.CUSTOMER)
    blocker = decoy("blocked the customer")
    Block.objects.create(customer=customer, vendor_id=blocker.vendor_id, blocked_by=Block.Side.VENDOR)
    decoy("wrong region", regions=[tax.regions["GB-SCT"], tax.regions["DE-BE"], tax.regions["US-NY"]])
    decoy("wrong category", categories=[tax.by_slug["coats"], tax.by_slug["tents"], tax.by_slug["shops"]])

    planted.subscriptions = Subscription.objects.count()
    planted.active_subscriptions = Subscription.objects.filter(active=True).count()
    return planted


# The background ----------------------------------------------------------------------------


@dataclass
class GeneratedSubscription:
    id: uuid.UUID
    vendor_id: int
    categories: list[int]
    regions: list[int]
    keywords: list[str]
    filters: dict
    min_budget: Decimal | None
    min_budget_currency: str
    daily_cap: int | None
    active: bool


class Background:
    """Generates subscriptions with a realistic mix, and writes them with COPY.

    Mix: one to three categories (mostly leaves, some mid-level, a few whole roots), mostly within
    one root; regions mostly one to six subdivisions of one country (countries weighted so some
    are busy and many are quiet), 15% country-wide; 30% with keywords, 30% with attribute
    filters, 20% with a minimum budget, 10% with a daily cap; one vendor per ~4 subscriptions,
    of which 90% approved, 6% pending, 4% suspended; and 7% inactive subscriptions on top of the
    active count.
    """

    def __init__(self, tax: Taxonomy, requests: list[RequestKeys], *, seed: int = 1):
        self.tax = tax
        self.requests = requests
        self.rng = random.Random(seed)
        self.roots = list(TAXONOMY)
        self.root_weights = [ROOT_WEIGHTS[r] for r in self.roots]
        countries = list(tax.countries)
        random.Random(seed + 1).shuffle(countries)
        self.countries = countries
        self.country_weights = [1 / (rank + 4) for rank in range(len(countries))]
        self.danger = frozenset().union(*(r.ancestors for r in requests))
        self.lft_of = {pk: lr[0] for pk, lr in tax.lft_rgt.items()}
        self.rejected = 0
        self.active = 0
        self.inactive = 0
        self.key_rows = 0
        self.timings = {"generate": 0.0, "copy": 0.0, "index": 0.0}

    # one subscription --------------------------------------------------------------------

    def _filters(self, root: str) -> dict:
        rng = self.rng
        schema = TAXONOMY[root][0]
        filters = {}
        for definition in rng.sample(schema, rng.choice((1, 1, 2))):
            name, kind = definition["name"], definition["type"]
            if kind == "enum":
                filters[name] = {"in": rng.sample(definition["choices"], rng.randint(1, 2))}
            elif kind == "text":
                filters[name] = {"in": [rng.choice(["red", "blue", "silver", "black", "oak", "fabric"])]}
            elif kind == "boolean":
                filters[name] = {"eq": rng.random() < 0.7}
            else:
                bound = rng.choice((10, 100, 1000, 50000))
                filters[name] = rng.choice(({"min": bound // 10}, {"max": bound}, {"min": bound // 10, "max": bound}))
        return filters

    def _regions(self) -> list[int]:
        rng = self.rng
        code, country_id, subdivisions = rng.choices(self.countries, self.country_weights)[0]
        if not subdivisions or rng.random() < 0.15:
            regions = [country_id]
            if rng.random() < 0.1:
                regions.append(rng.choices(self.countries, self.country_weights)[0][1])
            return list(dict.fromkeys(regions))
        count = min(len(subdivisions), rng.choice((1, 1, 1, 2, 2, 3, 4, 6)))
        return rng.sample(subdivisions, count)

    def _categories(self) -> tuple[str, list[int]]:
        rng = self.rng
        root = rng.choices(self.roots, self.root_weights)[0]
        chosen = []
        for _ in range(rng.choices((1, 2, 3), (60, 30, 10))[0]):
            this_root = root if rng.random() < 0.85 else rng.choices(self.roots, self.root_weights)[0]
            level = rng.choices(("leaf", "mid", "root"), (55, 30, 15))[0]
            chosen.append(rng.choice(self.tax.levels[this_root][level]))
        return root, list(dict.fromkeys(chosen))

    def _is_candidate(self, categories: list[int], regions: list[int], stems: list[str]) -> bool:
        """Whether the index would list this subscription for any benchmark request."""
        if self.danger.isdisjoint(categories):
            return False
        for request in self.requests:
            if request.ancestors.isdisjoint(categories):
                continue
            if stems != [""] and request.stems.isdisjoint(stems):
                continue
            for region in regions:
                lft, rgt = self.tax.lft_rgt[region]
                if request.lft <= lft <= request.rgt or (lft < request.lft and rgt > request.rgt):
                    return True
        return False

    def one(self, vendor_id: int, *, active: bool) -> tuple[GeneratedSubscription, list[tuple]]:
        rng = self.rng
        while True:
            root, categories = self._categories()
            regions = self._regions()
            keywords = []
            if rng.random() < 0.3:
                keywords = rng.sample(TAXONOMY[root][2], rng.choice((1, 1, 2, 3)))
            rows = subscription_key_rows(keywords, "en", categories, [self.lft_of[r] for r in regions])
            stems = sorted({row[1] for row in rows})
            if active and self._is_candidate(categories, regions, stems):
                self.rejected += 1
                continue
            break
        min_budget, currency = None, ""
        if rng.random() < 0.2:
            min_budget = Decimal(rng.choice((50, 100, 250, 500, 1000, 5000, 20000)))
            currency = rng.choice(CURRENCIES)
        subscription = GeneratedSubscription(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            vendor_id=vendor_id,
            categories=categories,
            regions=regions,
            keywords=keywords,
            filters=self._filters(root) if rng.random() < 0.3 else {},
            min_budget=min_budget,
            min_budget_currency=currency,
            daily_cap=rng.randint(5, 200) if rng.random() < 0.1 else None,
            active=active,
        )
        return subscription, rows

    # writing -----------------------------------------------------------------------------

    def grow(self, active_count: int, chunk: int = 50_000) -> None:
        """Add ``active_count`` active subscriptions (and ~7% inactive ones), with their vendors,
        category and region links and index rows."""
        if active_count <= 0:
            return
        inactive_count = round(active_count * 0.07)
        total = active_count + inactive_count
        statuses = self.rng.choices(
            [Vendor.Status.APPROVED, Vendor.Status.PENDING, Vendor.Status.SUSPENDED], [90, 6, 4], k=max(1, total // 4)
        )
        vendor_ids = copy_vendors(statuses)
        kinds = [True] * active_count + [False] * inactive_count
        self.rng.shuffle(kinds)
        big = total >= 200_000
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            # Skip the per-row foreign-key triggers for the bulk load (superuser only); the rows
            # are generated consistent with each other.
            cursor.execute("SET LOCAL session_replication_role = replica")
            dropped = drop_plain_indexes(cursor) if big else []
            for start in range(0, total, chunk):
                t = time.perf_counter()
                batch = [self.one(self.rng.choice(vendor_ids), active=a) for a in kinds[start : start + chunk]]
                self.timings["generate"] += time.perf_counter() - t
                t = time.perf_counter()
                self.key_rows += copy_subscriptions(batch)
                self.timings["copy"] += time.perf_counter() - t
            t = time.perf_counter()
            for _name, definition in dropped:
                cursor.execute(definition)
            self.timings["index"] += time.perf_counter() - t
        self.active += active_count
        self.inactive += inactive_count


# COPY writers ------------------------------------------------------------------------------


def subscription_tables() -> dict[str, str]:
    return {
        "subscription": Subscription._meta.db_table,
        "categories": Subscription.categories.through._meta.db_table,
        "regions": Subscription.regions.through._meta.db_table,
        "keys": SubscriptionKey._meta.db_table,
    }


def drop_plain_indexes(cursor) -> list[tuple[str, str]]:
    """Drop the plain (non-constraint) indexes of the subscription tables and return their
    definitions: building them after a big load is several times faster than keeping them up
    to date row by row."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [list(subscription_tables().values())],
    )
    dropped = cursor.fetchall()
    for name, _definition in dropped:
        cursor.execute(f'DROP INDEX "{name}"')
    return dropped


def copy_vendors(statuses: list[str], *, name: str = "Vendor") -> list[int]:
    """One vendor per status, written with COPY; returns their ids."""
    table = Vendor._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (a model's table)
        first = cursor.fetchone()[0] + 1
        ids = list(range(first, first + len(statuses)))
        with cursor.cursor.copy(
            f"COPY {table} (id, name, contact_email, status, created_at, approved_at) FROM STDIN"
        ) as copy:
            for pk, status in zip(ids, statuses, strict=True):
                approved_at = now if status == Vendor.Status.APPROVED else None
                copy.write_row((pk, f"{name} {pk}", f"sales{pk}@vendor.example", status, now, approved_at))
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [ids[-1]])
    return ids


def copy_subscriptions(batch: list[tuple[GeneratedSubscription, list[tuple]]]) -> int:
    """Write subscriptions, their category and region links and their index rows (as
    ``subscription_key_rows`` made them) with COPY. Returns the number of index rows."""
    tables = subscription_tables()
    now = timezone.now()
    raw = connection.cursor().cursor
    with raw.copy(
        f"COPY {tables['subscription']} (id, vendor_id, name, keywords, language, attribute_filters, min_budget,"
        " min_budget_currency, daily_cap, active, created_at, updated_at) FROM STDIN"
    ) as copy:
        for s, _rows in batch:
            copy.write_row(
                (s.id, s.vendor_id, "", json.dumps(s.keywords), "en", json.dumps(s.filters), s.min_budget,
                 s.min_budget_currency, s.daily_cap, s.active, now, now)
            )  # fmt: skip
    with raw.copy(f"COPY {tables['categories']} (subscription_id, category_id) FROM STDIN") as copy:
        for s, _rows in batch:
            for category in s.categories:
                copy.write_row((s.id, category))
    with raw.copy(f"COPY {tables['regions']} (subscription_id, region_id) FROM STDIN") as copy:
        for s, _rows in batch:
            for region in s.regions:
                copy.write_row((s.id, region))
    key_rows = 0
    columns = ", ".join(f.column for f in key_fields())
    with raw.copy(f"COPY {tables['keys']} (subscription_id, {columns}) FROM STDIN") as copy:
        for s, rows in batch:
            for row in rows:
                copy.write_row((s.id, *row))
            key_rows += len(rows)
    return key_rows


def key_fields() -> list:
    """The SubscriptionKey columns that ``subscription_key_rows`` fills, in its order."""
    from vendors.services import SUBSCRIPTION_KEY_FIELDS

    return [SubscriptionKey._meta.get_field(name) for name in SUBSCRIPTION_KEY_FIELDS]


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
