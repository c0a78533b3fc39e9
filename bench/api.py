"""The vendor API against its floor, the inbox from 200 to 20,000 deliveries, and the customer's
request page with 50 offers.

    python bench/api.py                   # 3 rounds of 5 s per endpoint (about 3 minutes)
    python bench/api.py --seconds 2 --rounds 1     # quicker
    python bench/api.py --only page                # part 4 alone (about 20 s)
    python bench/api.py --reuse                    # on the data of an earlier run, if it is there

1. The API: gunicorn with the production settings (bench.api_settings: broker.settings.production
   as deploy/env.example configures it, on the bench's database and Redis db) and 2 sync workers;
   ``wrk`` (Debian's ``wrk`` package: skipped with a message when it is missing) drives each
   endpoint in turn, ``-t2 -c16``, alternating with the floor (a bare DRF view that reads 20 rows
   of the intents table, routed only by bench.urls) in every round. Printed: req/s, p50 and p99,
   the share of answers that were not 2xx, and each endpoint's ratio to the floor of its round
   (the median over rounds). Every POST /api/v1/bids/ bids on a fresh request, so it does the
   real work; the bids it created are counted afterwards.
2. The queries each endpoint makes, for a page of 5 and of 50 items (the same count).
3. The inbox, its default page and its category filter, for a vendor with 200 deliveries and one
   with 20,000 (in-process through Django's test client, median of many).
4. The customer's request page with 50 offers (in-process, server time, median of many).

Prints figures; asserts none of them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from itertools import zip_longest
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, flush_broker, header, percentile, reset_data, setup_django  # noqa: E402

CATEGORIES = ("hatchbacks", "smartphones", "flats-to-rent", "city-breaks", "plumbing")  # one per root


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5, help="each wrk run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--big-inbox", type=int, default=20_000, help="deliveries of the big inbox")
    parser.add_argument("--samples", type=int, default=60, help="in-process requests per figure")
    parser.add_argument(
        "--only",
        choices=("all", "page"),
        default="all",
        help="'page': only part 4, her request page with 50 offers, on fresh data (default: all)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the data an earlier run left in the bench database, when it is there, instead of"
        " building it again (about 2 minutes): the vendors get new keys, the POST runs fresh requests;"
        " what earlier runs added (their bids, her request pages) stays",
    )
    return parser.parse_args()


# Data -----------------------------------------------------------------------------------------


def make_intents(tax, customers, count: int, rng: random.Random, *, prefix: str) -> list:
    """``count`` open requests of the given customers, spread over CATEGORIES, written in bulk."""
    from django.utils import timezone

    from intents.models import Intent

    categories = [tax.by_slug[slug] for slug in CATEGORIES]
    london = tax.regions["GB-LND"]
    expires = timezone.now() + timedelta(days=14)
    rows = [
        Intent(
            customer=customers[i % len(customers)],
            title=f"{prefix} request {i}: something to buy",
            details="A few lines of what she wants, " * 4,
            category=categories[i % len(categories)],
            region=london,
            attributes={},
            budget_max=Decimal(rng.randrange(100, 5000)),
            currency="GBP",
            terms={"contact_through_broker_only": True, "no_marketing": True, "delete_data_after_days": 90},
            expires_at=expires,
        )
        for i in range(count)
    ]
    return Intent.objects.bulk_create(rows, batch_size=2000)


def deliver(vendor, intents, *also) -> None:
    """Put ``intents`` in ``vendor``'s inbox as the fan-out does: a delivery each and the
    customers' handles for the vendor. ``also``: more (vendor, intents) pairs, delivered
    interleaved with these, as deliveries to many vendors are over time (an inbox whose rows
    came all at once, after everybody else's, would be the best case)."""
    from vendors.models import Delivery
    from vendors.relationships import ensure_pseudonyms

    inboxes = [(vendor, intents), *also]
    for each_vendor, each_intents in inboxes:
        for customer_id in {intent.customer_id for intent in each_intents}:
            ensure_pseudonyms(customer_id=customer_id, vendor_ids=[each_vendor.pk])
    rows = [
        Delivery(intent=intent, vendor=each_vendor)
        for batch in zip_longest(*[[(v, i) for i in its] for v, its in inboxes])
        for each_vendor, intent in filter(None, batch)
    ]
    Delivery.objects.bulk_create(rows, batch_size=5000)


def key_for(name: str):
    from vendors.services import create_vendor, issue_api_key

    vendor = create_vendor(name=name, contact_email=f"{name.lower().replace(' ', '-')}@bench.example", approve=True)
    return vendor, issue_api_key(vendor=vendor)[1]


# gunicorn and wrk -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(port: int):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.api_settings", "PYTHONPATH": str(ROOT)}
    (ROOT / "var").mkdir(exist_ok=True)
    log = open(ROOT / "var" / "bench-gunicorn.log", "w")  # noqa: SIM115 (closed below)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "broker.wsgi:application",
        "--workers=2",
        "--worker-class=sync",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start; see var/bench-gunicorn.log") from None
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def lua_headers(headers: dict[str, str]) -> str:
    return "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())


def post_script(headers: dict[str, str], bodies: list[str]) -> str:
    """Each request a body of its own: thread t of n sends bodies t, t+n, t+2n, ..."""
    listing = ",\n".join(json.dumps(body) for body in bodies)
    return f"""wrk.method = "POST"
{lua_headers(headers)}
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local bodies = {{
{listing}
}}
local n = 0
function request()
  local i = tid + n * 2 + 1
  n = n + 1
  if i > #bodies then i = #bodies end
  return wrk.format(nil, nil, nil, bodies[i])
end
"""


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(url: str, script: str, seconds: float, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", f.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    latency = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s))\s*$", out, re.MULTILINE))
    if len(latency) != 2:
        raise SystemExit(f"Unexpected output of wrk:\n{out}")

    def ms(text: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
        return float(number) * UNITS[unit]

    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms(latency["50"]),
        "p99": ms(latency["99"]),
        "requests": total,
        "not_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


# In-process measurements ----------------------------------------------------------------------


def median_ms(call, samples: int) -> float:
    call()  # warm
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def queries_of(call) -> int:
    return counted(call)[1]


def counted(call):
    """``call()``'s response and how many queries it made."""
    from django.db import connection

    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        response = call()
    assert response.status_code < 300, (response.status_code, response.content[:300])
    return response, count


def main() -> None:
    args = parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench import data
    from vendors.models import Bid

    if args.only == "page":
        header("Her request page with 50 offers")
    else:
        header(f"The vendor API against its floor ({os.cpu_count()} CPUs, gunicorn 2 sync workers)")
    started = time.perf_counter()
    per_round = int(args.seconds * 1500)
    earlier = earlier_data(args) if args.reuse and args.only == "all" else None
    if earlier is not None:
        rng = random.Random()
        tax, customers, reader_intents, (reader, reader_key), (big, big_key), (bidder, bidder_key) = earlier
        fresh = make_intents(tax, customers, per_round * args.rounds + len(CATEGORIES), rng, prefix="bid")
        deliver(bidder, fresh)
        from vendors.services import place_bid

        for intent in [fresh.pop() for _ in CATEGORIES]:  # each category's schema read once, as the build's bids do
            place_bid(vendor=bidder, intent_id=intent.pk, amount=Decimal("900.00"), currency="GBP")
        data.analyze()
        flush_broker()
        print(f"data of an earlier run reused (--reuse) [{time.perf_counter() - started:.1f} s]")
    else:
        reset_data()
        flush_broker()
        rng = random.Random(11)
        tax = data.build_taxonomy()
        users = get_user_model().objects
        customers = [users.create_user(f"customer{i}", f"customer{i}@bench.example", "x" * 12) for i in range(20)]
        if args.only == "page":
            request_page(tax, customers[0], rng, Client(HTTP_HOST="127.0.0.1"), args.samples)
            return

        reader, reader_key = key_for("Reader")  # 200 deliveries, some with its bids
        reader_intents = make_intents(tax, customers, 200, rng, prefix="reader")
        deliver(reader, reader_intents)
        big, big_key = key_for("Big dealer")
        bidder, bidder_key = key_for("Bidder")  # fresh requests for every POST
        fresh = make_intents(tax, customers, per_round * args.rounds, rng, prefix="bid")
        deliver(big, make_intents(tax, customers, args.big_inbox, rng, prefix="big"), (bidder, fresh))
        from vendors.services import place_bid

        for intent in reader_intents[::4]:
            place_bid(vendor=reader, intent_id=intent.pk, amount=Decimal("900.00"), currency="GBP")
        data.analyze()
        flush_broker()
        print(f"data ready [{time.perf_counter() - started:.1f} s]")

    # 2. Queries per endpoint, 5 and 50 items -------------------------------------------------
    client = Client(HTTP_HOST="127.0.0.1")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {reader_key}"}
    detail_id = reader_intents[0].pk
    client.get(f"/api/v1/intents/{detail_id}/", **auth)  # seen once: later reads only read
    client.get("/api/v1/intents/?page_size=50", **auth)  # the taxonomy's names, read once per process
    print()
    print("queries per request         5 items   50 items")
    for label, path in (
        ("GET /api/v1/intents/", "/api/v1/intents/?page_size={n}"),
        ("GET /api/v1/bids/", "/api/v1/bids/?page_size={n}"),
    ):
        few, many = (
            queries_of(lambda url=url: client.get(url, **auth)) for url in (path.format(n=5), path.format(n=50))
        )
        print(f"  {label:<26}{few:>6}{many:>11}")
    detail_queries = queries_of(lambda: client.get(f"/api/v1/intents/{detail_id}/", **auth))
    print(f"  {'GET /api/v1/intents/{id}/':<26}{detail_queries:>6}")
    one = fresh.pop()
    post_queries = queries_of(
        lambda: client.post(
            "/api/v1/bids/", {"intent": str(one.pk), "amount": "950.00", "currency": "GBP"},
            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {bidder_key}",
        )
    )  # fmt: skip
    print(f"  {'POST /api/v1/bids/':<26}{post_queries:>6}")

    # 1. Throughput against the floor --------------------------------------------------------
    if shutil.which("wrk") is None:
        print("\nwrk is not installed (apt-get install wrk): the throughput part is skipped.")
    else:
        throughput(args, reader_key, bidder_key, detail_id, fresh, per_round)
        created = Bid.objects.filter(vendor=bidder).count()
        print(f"  bids created by the POST runs: {created:,}")
        flush_broker()

    # 3. The inbox at 200 and at 20,000 deliveries --------------------------------------------
    print()
    print(f"inbox, in-process median of {args.samples}   200 deliveries   {args.big_inbox:,} deliveries")
    for label, query in (("default page (50)", ""), ("?category=vehicles", "?category=vehicles"),
                         ("?status=open", "?status=open")):  # fmt: skip
        url = f"/api/v1/intents/{query}"
        small_ms, big_ms = (
            median_ms(lambda url=url, key=key: client.get(url, HTTP_AUTHORIZATION=f"Bearer {key}"), args.samples)
            for key in (reader_key, big_key)
        )
        print(f"  {label:<33}{small_ms:>9.2f} ms{big_ms:>17.2f} ms   ({big_ms / small_ms:.2f}x)")

    # 4. Her request page with 50 offers ------------------------------------------------------
    request_page(tax, customers[0], rng, client, args.samples)


def earlier_data(args):
    """What an earlier run built (``--reuse``), each vendor with a new key; None when the bench
    database does not hold it (or holds a big inbox of another size)."""
    from django.contrib.auth import get_user_model

    from bench import data
    from intents.models import Intent
    from vendors.models import Delivery, Vendor
    from vendors.services import issue_api_key

    vendors = {v.name: v for v in Vendor.objects.filter(name__in=["Reader", "Big dealer", "Bidder"])}
    customers = list(get_user_model().objects.filter(username__startswith="customer").order_by("pk"))
    if len(vendors) != 3 or len(customers) != 20:
        return None
    if Delivery.objects.filter(vendor=vendors["Big dealer"]).count() != args.big_inbox:
        return None
    reader_intents = list(Intent.objects.filter(deliveries__vendor=vendors["Reader"]).order_by("created_at", "pk"))
    keyed = [(vendors[name], issue_api_key(vendor=vendors[name])[1]) for name in ("Reader", "Big dealer", "Bidder")]
    return (data.read_taxonomy(), customers, reader_intents, *keyed)


def throughput(args, reader_key: str, bidder_key: str, detail_id, fresh: list, per_round: int) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    reader = lua_headers({"Authorization": f"Bearer {reader_key}"})
    bodies = [
        json.dumps({"intent": str(i.pk), "amount": f"{rng_amount(n)}", "currency": "GBP"}) for n, i in enumerate(fresh)
    ]
    endpoints = [
        ("floor: bare DRF view, 20 rows", "/bench/floor/", lambda r: ""),
        ("GET /api/v1/intents/ (20)", "/api/v1/intents/?page_size=20", lambda r: reader),
        ("GET /api/v1/intents/ (50)", "/api/v1/intents/", lambda r: reader),
        ("GET /api/v1/intents/{id}/", f"/api/v1/intents/{detail_id}/", lambda r: reader),
        (
            "POST /api/v1/bids/",
            "/api/v1/bids/",
            lambda r: post_script(
                {"Authorization": f"Bearer {bidder_key}", "Content-Type": "application/json"},
                bodies[r * per_round : (r + 1) * per_round],
            ),
        ),
    ]
    targets = {1: 0.6, 2: 0.5, 3: 0.7, 4: 0.5}
    results: dict[int, list[dict]] = {i: [] for i in range(len(endpoints))}
    with gunicorn(port):
        for _, path, script in endpoints[:4]:  # warm both workers
            wrk(base + path, script(0), 1, args.connections)
        for r in range(args.rounds):
            for i, (_, path, script) in enumerate(endpoints):
                results[i].append(wrk(base + path, script(r), args.seconds, args.connections))
            print(f"  round {r + 1} of {args.rounds} done")
    print()
    title = f"wrk -t2 -c{args.connections}, {args.rounds} x {args.seconds:g} s"
    print(f"{title:<35}req/s     p50 ms   p99 ms   not 2xx   ratio (target)")
    for i, (label, _, _) in enumerate(endpoints):
        runs = results[i]
        rps = statistics.median(run["rps"] for run in runs)
        # A round in which the floor completed nothing (a machine busy with something else) says
        # nothing about the ratio: it is left out, and said so when every round was such.
        ratios = [run["rps"] / floor["rps"] for run, floor in zip(runs, results[0], strict=True) if floor["rps"]]
        ratio = statistics.median(ratios) if ratios else float("nan")
        bad = sum(run["not_2xx"] for run in runs) / max(1, sum(run["requests"] for run in runs))
        target = f"{ratio:.2f} (>= {targets[i]})" if i in targets else "1"
        errors = "; socket errors " + runs[-1]["socket_errors"] if runs[-1]["socket_errors"] else ""
        print(
            f"  {label:<33}{rps:>7.0f}{statistics.median(r['p50'] for r in runs):>10.2f}"
            f"{statistics.median(r['p99'] for r in runs):>9.2f}{bad:>9.1%}   {target}{errors}"
        )


def rng_amount(n: int) -> str:
    return f"{900 + n % 200}.00"


def request_page(tax, customer, rng: random.Random, client, samples: int) -> None:
    from django.conf import settings
    from django.test import override_settings

    from vendors.services import place_bid

    intent = make_intents(tax, [customer], 1, rng, prefix="offers")[0]
    vendors = [key_for(f"Offer shop {n}")[0] for n in range(50)]
    for n, vendor in enumerate(vendors):
        deliver(vendor, [intent])
        place_bid(vendor=vendor, intent_id=intent.pk, amount=Decimal(1000 + 10 * n), currency="GBP", message="Ready")
    client.force_login(customer)
    url = f"/requests/{intent.pk}/"
    # Static files by name (production serves them hashed, from collectstatic's manifest).
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        page(client, url, samples)


def page(client, url: str, samples: int) -> None:
    response, queries = counted(lambda: client.get(url))
    page_ms = median_ms(lambda: client.get(url), samples)
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
    print()
    print(
        f"her request page with 50 offers: {page_ms:.2f} ms server time (median of {samples}; p90"
        f" {percentile(times, 90):.2f} ms), {queries} queries, {len(response.content) / 1024:.0f} KB"
        " (target <= 10 ms)"
    )


if __name__ == "__main__":
    main()
