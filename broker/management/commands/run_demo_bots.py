"""Run the demo vendors' bots against a running site (``run_demo`` runs them with the server)."""

import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from broker.demo.bots import start_bots


class Command(BaseCommand):
    help = "Run the demo vendors' bots: each polls its inbox through the vendor API and bids. Ctrl-C stops them."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=settings.SITE_URL, help="The site (default: SITE_URL)")
        parser.add_argument("--interval", type=float, default=1.5, help="Seconds between looks at the inbox")

    def handle(self, *args, base_url: str, interval: float, **options):
        stop = threading.Event()
        try:
            bots = start_bots(base_url, stop, interval=interval)
        except FileNotFoundError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{len(bots)} demo vendor bots bid through {base_url}/api/v1/. Ctrl-C stops them.")
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
