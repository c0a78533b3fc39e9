"""The starting category tree with its attribute schemas. Loaded by ``manage.py load_taxonomy``;
edit categories in admin afterwards."""

from __future__ import annotations

from django.db import transaction

from intents.attributes import validate_schema
from intents.models import Category

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
            {"name": "model", "label": "Model", "type": "text"},
            {"name": "year", "label": "Year of registration", "type": "range"},
            {"name": "mileage", "label": "Mileage, at most", "type": "number", "unit": "mi"},
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
                    },
                    {"name": "engine_size", "label": "Engine size", "type": "number", "unit": "l"},
                    {"name": "doors", "label": "Doors", "type": "number"},
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
