"""Seed the demo: the taxonomy, the regions, and the people and vendors of ``broker.demo.seed``."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from broker.demo.seed import ADMIN, CUSTOMER, DEALER, VENDORS, keys_path, seed


class Command(BaseCommand):
    help = "Seed the demo: taxonomy, regions, a customer, an admin and five vendors with API keys."

    def handle(self, *args, **options):
        call_command("load_taxonomy", stdout=self.stdout)
        keys = seed()
        self.stdout.write(f"Demo customer {CUSTOMER[0]} / {CUSTOMER[1]}; admin {ADMIN[0]} / {ADMIN[1]}.")
        self.stdout.write(f"{len(keys)} demo vendors; their API keys are in {keys_path()}.")
        self.stdout.write(f"The vendor area (/vendor/) as {VENDORS[0]['name']}: {DEALER[0]} / {DEALER[1]}.")
