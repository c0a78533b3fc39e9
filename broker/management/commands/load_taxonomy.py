from django.core.management.base import BaseCommand

from intents.taxonomy import load_regions
from intents.taxonomy_data import load_categories
from vendors.services import reindex_all_subscriptions


class Command(BaseCommand):
    help = "Load the category tree and the ISO 3166 regions (from pycountry). Safe to run again."

    def handle(self, *args, **options):
        categories = load_categories()
        regions = load_regions()
        # Region numbering may have changed, and the subscription index is keyed on it.
        keys = reindex_all_subscriptions()
        self.stdout.write(f"{categories} categories, {regions} regions, {keys} subscription index rows.")
