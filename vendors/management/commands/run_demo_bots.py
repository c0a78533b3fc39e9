"""Run the demo vendors' bots against a running site (``run_demo`` runs them with the server)."""

import json
import logging
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intents.management.commands.seed_demo import keys_path
from vendors.demo_bots import Bot


def start_bots(base_url: str, stop: threading.Event, *, interval: float = 1.5) -> list[Bot]:
    """Start one thread per demo vendor in ``var/demo_vendor_keys.json``; they stop with ``stop``."""
    if not keys_path().exists():
        raise CommandError(f"No demo vendor keys at {keys_path()}: run `python manage.py seed_demo` first.")
    keys = json.loads(keys_path().read_text())
    logging.getLogger("intentcast.demo_bots").setLevel(logging.INFO)
    bots = [Bot(name, base_url, key, seed=n) for n, (name, key) in enumerate(keys.items())]
    for bot in bots:
        threading.Thread(target=bot.run, args=(stop,), kwargs={"interval": interval}, daemon=True).start()
    return bots


class Command(BaseCommand):
    help = "Run the demo vendors' bots: each polls its inbox through the vendor API and bids. Ctrl-C stops them."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=settings.SITE_URL, help="The site (default: SITE_URL)")
        parser.add_argument("--interval", type=float, default=1.5, help="Seconds between looks at the inbox")

    def handle(self, *args, base_url: str, interval: float, **options):
        stop = threading.Event()
        bots = start_bots(base_url, stop, interval=interval)
        self.stdout.write(f"{len(bots)} demo vendor bots bid through {base_url}/api/v1/. Ctrl-C stops them.")
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
