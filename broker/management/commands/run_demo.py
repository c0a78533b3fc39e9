"""Serve the site and run the demo vendors' bots in one foreground session; Ctrl-C stops both."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from broker.demo.bots import start_bots
from broker.demo.seed import ADMIN, CUSTOMER, keys_path


def wait_until_serving(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    """Return once ``url`` answers; fail if the server exits first (e.g. the port is taken)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(
                f"The web server stopped (exit code {server.returncode}). Is the port taken? Try DEMO_PORT=8001."
            )
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 (our own http://127.0.0.1 URL)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.25)
    raise CommandError(f"The web server did not answer at {url} within {timeout:.0f} s.")


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver does
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Command(BaseCommand):
    help = "Run the demo: the web server on 127.0.0.1:8000 (or --port, or DEMO_PORT) and the vendor bots."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", 8000)))

    def handle(self, *args, port: int, **options):
        if not keys_path().exists():
            raise CommandError("Run `python manage.py seed_demo` first.")
        if not port_is_free(port):
            # Checked first: otherwise another server on the port would pass for ours.
            raise CommandError(f"Port {port} is taken. Run with DEMO_PORT=8001 (or --port 8001).")
        base = f"http://127.0.0.1:{port}"
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        command = [sys.executable, manage, "runserver", f"127.0.0.1:{port}", "--noreload"]
        # Links in the emails printed to the console point at this server.
        server_env = {**os.environ, "DJANGO_SERVER_LOG_LEVEL": "WARNING", "SITE_URL": base}
        server = subprocess.Popen(command, env=server_env)  # noqa: S603 (our own fixed command)
        # `kill` (SIGTERM) stops the server too, like Ctrl-C.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        stop = threading.Event()
        try:
            wait_until_serving(f"{base}/", server)
            bots = start_bots(base, stop)
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
            self.stdout.flush()
            if server.wait():
                raise CommandError(f"The web server stopped (exit code {server.returncode}).")
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:
                    server.kill()
