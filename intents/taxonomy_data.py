"""The starting category tree with its attribute schemas. Loaded by ``manage.py load_taxonomy``;
edit categories in admin afterwards."""

from __future__ import annotations

from django.db import transaction

from intents.attributes import validate_schema
from intents.models import Category

# Models by make: a model must belong to the make she chose (``depends_on``). Every make of the
# vehicles' list has one, so no make is left without models to choose from.
MODELS_BY_MAKE: dict[str, list[str]] = {
    "Audi": ["A1", "A3", "A4", "A6", "Q2", "Q3", "Q5"],
    "BMW": ["1 Series", "2 Series", "3 Series", "5 Series", "X1", "X3"],
    "Citroën": ["C1", "C3", "C4", "Berlingo"],
    "Fiat": ["500", "Panda", "Tipo", "Ducato"],
    "Ford": ["Fiesta", "Focus", "Puma", "Kuga", "Mondeo", "Ka", "Transit", "Transit Custom"],
    "Honda": ["Jazz", "Civic", "HR-V", "CR-V", "CB500F", "CBR650R"],
    "Hyundai": ["i10", "i20", "i30", "Tucson", "Kona"],
    "Kia": ["Picanto", "Rio", "Ceed", "Sportage", "Niro"],
    "Mazda": ["Mazda2", "Mazda3", "CX-3", "CX-5", "MX-5"],
    "Mercedes-Benz": ["A-Class", "C-Class", "E-Class", "GLA", "Sprinter", "Vito"],
    "Nissan": ["Micra", "Juke", "Qashqai", "Leaf"],
    "Peugeot": ["108", "208", "308", "2008", "3008", "Partner"],
    "Renault": ["Clio", "Captur", "Megane", "Zoe", "Trafic"],
    "Skoda": ["Citigo", "Fabia", "Octavia", "Superb", "Karoq"],
    "Toyota": ["Yaris", "Aygo", "Corolla", "Auris", "C-HR", "RAV4", "Prius", "Hilux"],
    "Vauxhall": ["Corsa", "Astra", "Mokka", "Insignia", "Vivaro"],
    "Volkswagen": ["Polo", "Golf", "up!", "T-Roc", "Tiguan", "Passat", "Transporter", "Caddy"],
    "Volvo": ["V40", "XC40", "XC60", "V60", "XC90"],
}

# Trims by model, for the models whose trims are listed; any trim goes with the others.
TRIMS_BY_MODEL: dict[str, list[str]] = {
    "Yaris": ["T2", "T3", "TR", "T Spirit", "SR", "Icon", "Design", "Excel", "GR Sport"],
    "Aygo": ["x", "x-play", "x-trend", "x-clusiv"],
    "Corolla": ["Icon", "Design", "Excel", "GR Sport"],
    "Fiesta": ["Style", "Zetec", "Titanium", "ST-Line", "Vignale", "ST"],
    "Focus": ["Style", "Zetec", "Titanium", "ST-Line", "ST"],
    "Golf": ["S", "SE", "Match", "GT", "GTI", "GTD", "R"],
    "Polo": ["S", "SE", "Match", "Beats", "GTI"],
    "Jazz": ["S", "SE", "EX", "Sport"],
    "Civic": ["S", "SE", "SR", "EX", "Sport", "Type R"],
}

CONDITION = {"name": "condition", "label": "Condition", "type": "enum", "choices": ["new", "used", "refurbished"]}

TREE: list[dict] = [
    {
        "slug": "vehicles",
        "name": "Vehicles",
        "attributes": [
            {
                "name": "make",
                "label": "Make",
                "type": "enum",
                "choices": [
                    "Audi",
                    "BMW",
                    "Citroën",
                    "Fiat",
                    "Ford",
                    "Honda",
                    "Hyundai",
                    "Kia",
                    "Mazda",
                    "Mercedes-Benz",
                    "Nissan",
                    "Peugeot",
                    "Renault",
                    "Skoda",
                    "Toyota",
                    "Vauxhall",
                    "Volkswagen",
                    "Volvo",
                ],
            },
            {"name": "model", "label": "Model", "type": "enum", "depends_on": "make", "choices_by": MODELS_BY_MAKE},
            {"name": "year", "label": "Year of registration", "type": "range", "min": 1950, "max": "next_year"},
            {
                "name": "mileage",
                "label": "Mileage",
                "type": "number",
                "unit": "distance",
                "min": 0,
                "compare": "at_most",
            },
            {"name": "fuel", "label": "Fuel", "type": "enum", "choices": ["petrol", "diesel", "hybrid", "electric"]},
            {"name": "colour", "label": "Colour", "type": "text"},
        ],
        "children": [
            {
                "slug": "cars",
                "name": "Cars",
                "attributes": [
                    {
                        "name": "trim",
                        "label": "Trim",
                        "type": "enum",
                        "multiple": True,
                        "choices": ["T2", "T3", "TR", "T Spirit", "SR", "Sport", "SE", "Titanium", "Zetec", "GTI"],
                        "depends_on": "model",
                        "choices_by": TRIMS_BY_MODEL,
                    },
                    {
                        "name": "engine_size",
                        "label": "Engine size",
                        "type": "number",
                        "unit": "l",
                        "min": 0.6,
                        "max": 8.0,
                    },
                    {"name": "doors", "label": "Doors", "type": "number", "min": 2, "max": 7},
                    {
                        "name": "transmission",
                        "label": "Transmission",
                        "type": "enum",
                        "choices": ["manual", "automatic"],
                    },
                    {"name": "aircon", "label": "Air conditioning", "type": "boolean"},
                ],
            },
            {
                "slug": "vans",
                "name": "Vans",
                "attributes": [{"name": "load_volume", "label": "Load volume", "type": "number", "unit": "m³"}],
            },
            {
                "slug": "motorbikes",
                "name": "Motorbikes",
                "attributes": [{"name": "engine_cc", "label": "Engine", "type": "number", "unit": "cc"}],
            },
        ],
    },
    {
        "slug": "phones",
        "name": "Phones",
        "attributes": [
            {
                "name": "brand",
                "label": "Brand",
                "type": "enum",
                "choices": ["Apple", "Google", "Samsung", "Nokia", "Fairphone", "Motorola"],
            },
            {"name": "storage_gb", "label": "Storage", "type": "number", "unit": "GB"},
            CONDITION,
            {"name": "unlocked", "label": "Unlocked", "type": "boolean"},
        ],
        "children": [
            {
                "slug": "smartphones",
                "name": "Smartphones",
                "attributes": [{"name": "screen_in", "label": "Screen size", "type": "range", "unit": "in"}],
            },
            {
                "slug": "phone-plans",
                "name": "Phone plans",
                "attributes": [
                    {"name": "data_gb", "label": "Monthly data", "type": "number", "unit": "GB"},
                    {
                        "name": "contract_months",
                        "label": "Contract length",
                        "type": "enum",
                        "choices": ["1", "12", "24"],
                    },
                ],
            },
        ],
    },
    {
        "slug": "home-services",
        "name": "Home services",
        "attributes": [
            {
                "name": "when",
                "label": "When",
                "type": "enum",
                "choices": ["emergency", "this week", "this month", "flexible"],
            },
            {"name": "property", "label": "Property", "type": "enum", "choices": ["flat", "house", "office"]},
        ],
        "children": [
            {
                "slug": "plumbing",
                "name": "Plumbing",
                "attributes": [
                    {
                        "name": "job",
                        "label": "Job",
                        "type": "enum",
                        "choices": ["leak", "boiler", "bathroom fit", "blocked drain", "other"],
                    }
                ],
            },
            {
                "slug": "electrical",
                "name": "Electrical",
                "attributes": [{"name": "certificate_needed", "label": "Certificate needed", "type": "boolean"}],
            },
            {
                "slug": "cleaning",
                "name": "Cleaning",
                "attributes": [
                    {"name": "bedrooms", "label": "Bedrooms", "type": "number"},
                    {"name": "end_of_tenancy", "label": "End of tenancy", "type": "boolean"},
                ],
            },
        ],
    },
    {
        "slug": "travel",
        "name": "Travel",
        "attributes": [
            {"name": "travellers", "label": "Travellers", "type": "number"},
            {"name": "dates", "label": "Dates", "type": "text"},
        ],
        "children": [
            {
                "slug": "flights",
                "name": "Flights",
                "attributes": [
                    {"name": "from_airport", "label": "From", "type": "text"},
                    {"name": "to_airport", "label": "To", "type": "text"},
                    {
                        "name": "cabin",
                        "label": "Cabin",
                        "type": "enum",
                        "choices": ["economy", "premium", "business", "first"],
                    },
                    {"name": "return_trip", "label": "Return", "type": "boolean"},
                ],
            },
            {
                "slug": "hotels",
                "name": "Hotels",
                "attributes": [
                    {"name": "nights", "label": "Nights", "type": "number"},
                    {"name": "stars", "label": "Stars", "type": "range"},
                ],
            },
        ],
    },
]


@transaction.atomic
def load_categories(tree: list[dict] = TREE, parent: Category | None = None) -> int:
    """Create or update the categories of ``tree`` by slug, adding or moving each below
    ``parent`` through treebeard. Returns how many there are."""
    count = 0
    for node in tree:
        fields = {"name": node["name"], "attributes": validate_schema(node.get("attributes", []))}
        category = Category.objects.filter(slug=node["slug"]).first()
        if category is None:
            category = Category(slug=node["slug"], **fields)
            if parent is None:
                category = Category.objects.add_root(instance=category)
            else:
                category = Category.objects.add_child(parent, instance=category)
        else:
            for name, value in fields.items():
                setattr(category, name, value)
            category.parent = parent  # moves it (with its descendants) if it was elsewhere
            category.save()
        count += 1 + load_categories(node.get("children", []), category)
    return count
