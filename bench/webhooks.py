"""Webhook benchmark: signed ``intent.matched`` deliveries per second from one Celery worker
to local receivers, through the real path (record_vendor_events -> WebhookDelivery rows ->
one deliver_webhooks message per batch after commit -> lease -> Standard Webhooks signature ->
HTTP POST over a keep-alive connection -> attempts recorded).

    python bench/webhooks.py                       # 20 endpoints, 2,000 deliveries
    python bench/webhooks.py --endpoints 5 --events 200

The receivers are threaded HTTP servers in this process on 127.0.0.1; they verify every
signature with the ``standardwebhooks`` library, as a vendor would. For reference, the same
number of plain POSTs (no queue, no database, no signature) is sent from one thread in this
process with httpx, before and after the pipeline's run (their mean is the reference). The
worker's rate counts from the commit that enqueued the deliveries to the last attempt recorded;
the end-to-end rate also counts recording the events in this process. Prints figures; asserts
none of them.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Worker, header, percentile, reset_data, setup_django  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=20, help="vendors, each with one endpoint")
    parser.add_argument("--events", type=int, default=2000, help="webhook deliveries in all")
    parser.add_argument("--receivers", type=int, default=4, help="HTTP servers the endpoints are spread over")
    parser.add_argument("--timeout", type=float, default=300)
    return parser.parse_args()


class Receivers:
    """Threaded HTTP servers that verify Standard Webhooks signatures and answer 204."""

    def __init__(self, count: int):
        self.secrets: dict[str, str] = {}  # path -> secret
        self.lock = threading.Lock()
        self.received = 0
        self.verified = 0
        self.failed: list[str] = []
        self.ids: set[str] = set()
        self.servers = [ThreadingHTTPServer(("127.0.0.1", 0), self._handler()) for _ in range(count)]
        for server in self.servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def url(self, n: int, path: str) -> str:
        host, port = self.servers[n % len(self.servers)].server_address[:2]
        return f"http://{host}:{port}{path}"

    def _handler(self):
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a vendor's server would

            def do_POST(self):  # noqa: N802
                from standardwebhooks import Webhook, WebhookVerificationError

                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.path == "/reference":  # the unsigned reference run
                    self.send_response(204)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                secret = receivers.secrets.get(self.path)
                ok, why = False, "unknown endpoint"
                if secret is not None:
                    try:
                        Webhook(secret).verify(body, dict(self.headers.items()))
                        ok, why = True, ""
                    except WebhookVerificationError as error:
                        why = str(error)
                with receivers.lock:
                    receivers.received += 1
                    receivers.verified += ok
                    receivers.ids.add(self.headers.get("webhook-id", ""))
                    if not ok:
                        receivers.failed.append(why)
                self.send_response(204 if ok else 400)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def sample_data(n: int, vendor_id: int) -> dict:
    """What ``intent.matched`` carries (see broker.payloads.intent_for_vendor), ~0.7 kB."""
    now = datetime.now(UTC)
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "customer": {"handle": f"c_{vendor_id:08x}{n:08x}", "reputation": {"band": "new", "rated_deals": "0"}},
        "title": "Low-mileage Toyota Yaris, T3 or TR spec, silver",
        "details": "Aircon, ideally the 1.3 petrol, five doors.",
        "language": "en",
        "category": "hatchbacks",
        "attributes": {"make": "Toyota", "mileage": 40000, "fuel": "petrol", "doors": 5, "aircon": True},
        "region": "GB-LND",
        "budget": {"amount": "4000.00", "currency": "GBP"},
        "terms": {"contact_through_broker_only": True, "no_marketing": True, "delete_data_after_days": 90},
        "status": "open",
        "created_at": now.isoformat(),
        "expires_at": (now + timedelta(days=14)).isoformat(),
        "bid": None,
    }


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def main() -> None:
    args = parse_args()
    setup_django()
    import httpx
    from django.db import transaction

    from vendors.events import record_vendor_events
    from vendors.models import VendorEvent, WebhookAttempt, WebhookDelivery
    from vendors.services import create_vendor
    from vendors.webhooks import ping_endpoint, register_endpoint

    header(f"Webhooks: {args.events:,} signed deliveries to {args.endpoints} endpoints, one worker")
    started = time.perf_counter()
    reset_data()
    receivers = Receivers(args.receivers)
    vendors, endpoints = [], []
    for n in range(args.endpoints):
        vendor = create_vendor(name=f"Hooked {n}", contact_email=f"hooks{n}@bench.example", approve=True)
        url = receivers.url(n, f"/hooks/{n}")
        endpoint = register_endpoint(vendor=vendor, url=url, events=[VendorEvent.Kind.INTENT_MATCHED])
        receivers.secrets[f"/hooks/{n}"] = endpoint.secret
        vendors.append(vendor)
        endpoints.append(endpoint)
    subjects = max(1, args.events // args.endpoints)
    total = subjects * args.endpoints
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)

    body = json.dumps({"type": "intent.matched", "timestamp": "", "data": sample_data(0, 0)}).encode()
    reference_urls = [receivers.url(n, "/reference") for n in range(args.endpoints)]

    def plain_posts() -> float:
        """Seconds for ``total`` plain POSTs from one thread (one keep-alive connection per receiver)."""
        with httpx.Client(trust_env=False) as client:
            t = time.perf_counter()
            for n in range(total):
                client.post(
                    reference_urls[n % len(reference_urls)], content=body, headers={"content-type": "application/json"}
                )
            return time.perf_counter() - t

    plain_before = plain_posts()
    with Worker():
        # Warm up: one ping per endpoint, so the worker's first tasks (imports, connections)
        # are not in the timed run.
        for endpoint in endpoints:
            ping_endpoint(endpoint=endpoint)
        wait_until(lambda: not pending.exists(), args.timeout, "the pings")
        before = receivers.received

        t0 = time.perf_counter()
        with transaction.atomic():  # webhooks are enqueued after commit, as in the pipeline
            for n in range(subjects):
                record_vendor_events(
                    kind=VendorEvent.Kind.INTENT_MATCHED,
                    subject=f"bench-{n}",
                    data_by_vendor={v.pk: sample_data(n, v.pk) for v in vendors},
                )
        enqueued = time.perf_counter() - t0
        wait_until(lambda: not pending.exists(), args.timeout, f"{total} webhook deliveries")
        elapsed = time.perf_counter() - t0

    timed = WebhookDelivery.objects.filter(event__kind=VendorEvent.Kind.INTENT_MATCHED)
    succeeded = timed.filter(status=WebhookDelivery.Status.SUCCEEDED).count()
    attempts = WebhookAttempt.objects.filter(delivery__event__kind=VendorEvent.Kind.INTENT_MATCHED)
    latencies = list(attempts.values_list("latency_ms", flat=True))
    got = receivers.received - before

    # Reference: the same POSTs, unsigned, straight from one thread (no queue, no database).
    plain_after = plain_posts()
    receivers.close()
    reference = total / ((plain_before + plain_after) / 2)
    worker_rate = succeeded / (elapsed - enqueued)

    header("Results")
    print(f"signed deliveries: {succeeded:,}/{total:,} succeeded; the worker delivered them in"
          f" {(elapsed - enqueued) * 1000:.0f} ms from the commit -> {worker_rate:,.0f} deliveries/s with one worker"
          f" ({worker_rate / reference:.2f} of the reference)")  # fmt: skip
    print(f"end to end, the events recorded ({enqueued * 1000:.0f} ms, this process) and delivered:"
          f" {elapsed * 1000:.0f} ms -> {succeeded / elapsed:,.0f} deliveries/s"
          f" ({succeeded / elapsed / reference:.2f} of the reference)")  # fmt: skip
    print(f"attempts recorded: {attempts.count():,}; POST latency as the worker saw it:"
          f" p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms")  # fmt: skip
    print(f"receivers: {got:,} requests in the timed run; signatures verified with standardwebhooks:"
          f" {receivers.verified:,} of {receivers.received:,} received in all (pings included),"
          f" {len(receivers.failed)} failed{': ' + receivers.failed[0] if receivers.failed else ''}")  # fmt: skip
    print(f"reference: {total:,} plain unsigned POSTs from one thread with httpx, no queue or database:"
          f" {total / plain_before:,.0f}/s before and {total / plain_after:,.0f}/s after the pipeline's run"
          f" (mean {reference:,.0f}/s)")  # fmt: skip
    print(f"total run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
