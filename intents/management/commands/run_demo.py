"""Serve the site and run the demo vendors' bots in one foreground session; Ctrl-C stops both."""

import json
import logging
import os
import subprocess
import sys
import threading
import time

from django.core.management.base import BaseCommand, CommandError

from intents.management.commands.seed_demo import ADMIN, CUSTOMER, keys_path
from vendors.demo_bots import Bot


class Command(BaseCommand):
    help = "Run the demo: the web server on 127.0.0.1:8000 (or DEMO_PORT) and the vendor bots."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", 8000)))

    def handle(self, *args, port: int, **options):
        if not keys_path().exists():
            raise CommandError("Run `python manage.py seed_demo` first.")
        keys = json.loads(keys_path().read_text())
        base = f"http://127.0.0.1:{port}"
        logging.getLogger("intentcast.demo_bots").setLevel(logging.INFO)
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        server = subprocess.Popen(command, env={**os.environ, "DJANGO_SERVER_LOG_LEVEL": "WARNING"})  # noqa: S603 (our own fixed command)
        stop = threading.Event()
        bots = [Bot(name, base, key, seed=n) for n, (name, key) in enumerate(keys.items())]
        threads = [threading.Thread(target=bot.run, args=(stop,), daemon=True) for bot in bots]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "intentcast demo is running.",
                    f"  Website:  {base}/",
                    f"  Customer: {CUSTOMER[0]} / {CUSTOMER[1]}  (or sign up)",
                    f"  Admin:    {base}/admin/  {ADMIN[0]} / {ADMIN[1]}",
                    f"  API docs: {base}/api/docs/",
                    f"  Vendor API keys: {keys_path()}",
                    f"  {len(bots)} vendor bots bid through the API on what reaches them. Ctrl-C stops everything.",
                    "",
                ]
            )
        )
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            server.terminate()
            server.wait(10)
