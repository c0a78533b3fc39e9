"""Fan-out benchmark: one request matched to 10,000 vendors, through the real pipeline on two
Celery workers (publish_intent -> outbox -> process_outbox_event -> match, then the audience's
parts cast by both workers at once -> bulk deliveries), against the naive design (one Celery
task per matched vendor, each writing its Delivery with ``get_or_create``) measured in the same
run on the same workers.

    python bench/fanout.py                    # 10,000 vendors
    python bench/fanout.py --vendors 2000     # quicker
    python bench/fanout.py --vendors 100000 --no-naive   # the 100,000-vendor size (target 5 s)
    python bench/fanout.py --workers 1        # one worker process (FANOUT_PARTS then 1 too)

The workers' peak resident memory (the larger of them) is printed after the runs (a fan-out
streams its work in chunks, so it grows with the chunk, not with the audience). The clock runs from the call that
publishes (or enqueues) until the last of the deliveries is
visible to a reader outside the worker, i.e. in every vendor's inbox. Prints figures; asserts
none of them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Worker, header, percentile, reset_data, setup_django  # noqa: E402

REQUEST = {
    "title": "Low-mileage Toyota Yaris, T3 or TR spec, silver",
    "details": "Aircon, ideally the 1.3 petrol, five doors.",
    "attributes": {"make": "Toyota", "mileage": 40000, "fuel": "petrol", "doors": 5, "aircon": True},
    "budget_max": Decimal("4000"),
    "currency": "GBP",
}
WARM_UP_REQUEST = {"title": "Corner sofa", "details": "", "attributes": {}, "budget_max": None, "currency": ""}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vendors", type=int, default=10_000, help="matched vendors (default 10,000)")
    parser.add_argument("--background", type=int, default=50_000, help="other subscriptions that do not match")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of the real pipeline")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--no-naive", action="store_true", help="skip the (slow) naive design")
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes (default 2); a large audience is cast in as many parts"
    )
    return parser.parse_args()


def plant_audience(tax, count: int, rng: random.Random) -> None:
    """``count`` approved vendors, each with one subscription that matches REQUEST, in the
    shapes vendors really use: vehicles, cars or hatchbacks; GB, England or London; some with
    keywords, some with filters, some with a minimum budget."""
    from bench import data
    from vendors.models import Vendor
    from vendors.services import subscription_key_rows

    vendor_ids = data.copy_vendors([Vendor.Status.APPROVED] * count, name="Dealer")
    categories = [tax.by_slug[s].pk for s in ("vehicles", "cars", "hatchbacks")]
    regions = [tax.regions[c] for c in ("GB", "GB-ENG", "GB-LND")]
    batch = []
    for vendor_id in vendor_ids:
        chosen_categories = [rng.choice(categories)]
        chosen_regions = rng.sample(regions, rng.choice((1, 1, 2)))
        keywords = rng.choice((["yaris"], ["toyota", "honda"], ["low mileage"])) if rng.random() < 0.3 else []
        filters = rng.choice(({"mileage": {"max": 80000}}, {"aircon": {"eq": True}})) if rng.random() < 0.3 else {}
        budget = rng.random() < 0.2
        subscription = data.GeneratedSubscription(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            vendor_id=vendor_id,
            categories=chosen_categories,
            regions=[r.pk for r in chosen_regions],
            keywords=keywords,
            filters=filters,
            min_budget=Decimal("1000") if budget else None,
            min_budget_currency="GBP" if budget else "",
            daily_cap=None,
            active=True,
        )
        rows = subscription_key_rows(keywords, "en", chosen_categories, [r.lft for r in chosen_regions])
        batch.append((subscription, rows))
    data.copy_subscriptions(batch)


def target_s(vendors: int) -> float:
    """The issue's targets: 10,000 inboxes within 1 s, 100,000 within 5 s."""
    return 1.0 if vendors <= 10_000 else 5.0


def wait_for(intent_id, expected: int, started: float, timeout: float) -> float:
    """Seconds from ``started`` until ``expected`` deliveries of the intent are visible."""
    from django.db import connection

    from vendors.models import Delivery

    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        while True:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE intent_id = %s", [intent_id])  # noqa: S608
            if cursor.fetchone()[0] >= expected:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"only some of {expected} deliveries appeared within {timeout:.0f} s")
            time.sleep(0.005)


def wait_for_events(intent_id, expected: int, started: float, timeout: float) -> float:
    """Seconds from ``started`` until ``expected`` intent.matched events of the intent exist."""
    from vendors.models import VendorEvent

    while VendorEvent.objects.filter(kind="intent.matched", subject=str(intent_id)).count() < expected:
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"only some of {expected} events appeared within {timeout:.0f} s")
        time.sleep(0.01)
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from bench import data
    from bench.naive_tasks import naive_fanout
    from intents.models import Intent
    from intents.services import publish_intent
    from vendors.models import Delivery, Pseudonym, VendorEvent

    header(f"Fan-out: one request to {args.vendors:,} vendors, {args.workers} worker(s) ({os.cpu_count()} CPUs)")
    started = time.perf_counter()
    os.environ["FANOUT_PARTS"] = str(args.workers)  # read by the workers' settings
    reset_data()
    rng = random.Random(3)
    tax = data.build_taxonomy()
    hatchbacks, london = tax.by_slug["hatchbacks"], tax.regions["GB-LND"]
    users = get_user_model().objects

    def customer(name: str):
        return users.create_user(name, f"{name}@bench.example", "x" * 12)

    # The background (nothing in it matches) is generated against the request, as in bench/matching.py.
    probe = Intent(customer=customer("probe"), category=hatchbacks, region=london, **REQUEST)
    from broker.core.keywords import text_stems

    keys = data.RequestKeys(
        intent=probe,
        ancestors=frozenset(hatchbacks.ancestor_ids),
        lft=london.lft,
        rgt=london.rgt,
        stems=frozenset(text_stems(f"{REQUEST['title']}\n{REQUEST['details']}", "en")),
    )
    data.Background(tax, [keys], seed=5).grow(args.background)
    plant_audience(tax, args.vendors, rng)
    # The warm-up request's audience, so no worker's first task is a timed one: larger than
    # FANOUT_ONE_STEP_MAX (1,000), so it is cast in parts, as the timed request is.
    sofas = tax.by_slug["sofas"]
    warm_vendors = data.copy_vendors(["approved"] * 1200, name="Sofa shop")
    data.copy_subscriptions(
        [
            (
                data.GeneratedSubscription(uuid.uuid4(), v, [sofas.pk], [london.pk], [], {}, None, "", None, True),
                [(sofas.pk, "", london.lft)],
            )
            for v in warm_vendors
        ]
    )
    data.analyze()
    print(f"{args.vendors:,} matching vendors and {args.background:,} other subscriptions ready"
          f" [{time.perf_counter() - started:.1f} s]")  # fmt: skip

    def publish(who, category, request):
        return publish_intent(customer=who, category=category, region=london, **request)

    results = []
    with contextlib.ExitStack() as stack:
        workers = [
            stack.enter_context(
                Worker(name=f"fanout{n}", flush=n == 0, log_path=ROOT / "var" / f"bench-fanout-worker-{n}.log")
            )
            for n in range(args.workers)
        ]

        def peak_rss() -> float:
            return max(worker.peak_rss_mb() for worker in workers)

        warm = publish(customer("warm-up"), sofas, WARM_UP_REQUEST)
        wait_for(warm.pk, len(warm_vendors), time.perf_counter(), args.timeout)
        wait_for_events(warm.pk, len(warm_vendors), time.perf_counter(), args.timeout)
        if not args.no_naive:
            naive_warm = Intent.objects.create(
                customer=customer("naive-warm-up"),
                category=sofas,
                region=london,
                expires_at=timezone.now() + timedelta(days=7),
                **WARM_UP_REQUEST,
            )
            naive_fanout.delay(str(naive_warm.pk))
            wait_for(naive_warm.pk, len(warm_vendors), time.perf_counter(), args.timeout)

        warm_rss = peak_rss()
        # The real pipeline, a fresh customer each run (so pseudonyms are made each time too).
        for run in range(args.runs):
            who = customer(f"customer-{run}")
            t0 = time.perf_counter()
            intent = publish(who, hatchbacks, REQUEST)
            elapsed = wait_for(intent.pk, args.vendors, t0, args.timeout)
            events_elapsed = wait_for_events(intent.pk, args.vendors, t0, args.timeout)
            results.append(
                {
                    "seconds": elapsed,
                    "events_seconds": events_elapsed,
                    "deliveries": Delivery.objects.filter(intent=intent).count(),
                    "events": VendorEvent.objects.filter(subject=str(intent.pk)).count(),
                    "pseudonyms": Pseudonym.objects.filter(customer=who).count(),
                }
            )
            print(f"  pipeline run {run + 1}: {elapsed * 1000:.0f} ms to {results[-1]['deliveries']:,} deliveries"
                  f" ({results[-1]['deliveries'] / elapsed:,.0f}/s); {results[-1]['events']:,} intent.matched events"
                  f" after {events_elapsed * 1000:.0f} ms,"
                  f" {results[-1]['pseudonyms']:,} pseudonyms", flush=True)  # fmt: skip

        rss = peak_rss()  # after the pipeline's runs, before the naive design's
        if not args.no_naive:
            # The naive design: match, then one task per vendor.
            who = customer("naive")
            intent = Intent.objects.create(
                customer=who,
                category=hatchbacks,
                region=london,
                expires_at=timezone.now() + timedelta(days=7),
                **REQUEST,
            )
            t0 = time.perf_counter()
            naive_fanout.delay(str(intent.pk))
            naive_seconds = wait_for(intent.pk, args.vendors, t0, args.timeout)
            naive_count = Delivery.objects.filter(intent=intent).count()
            print(
                f"  naive run: {naive_seconds:.1f} s to {naive_count:,} deliveries"
                f" ({naive_count / naive_seconds:,.0f}/s)"
            )

    times = [r["seconds"] for r in results]
    if args.no_naive:
        header("Results")
        print(f"bulk pipeline: all {args.vendors:,} inboxes within {max(times) * 1000:.0f} ms at worst, p50"
              f" {percentile(times, 50) * 1000:.0f} ms ({args.vendors / percentile(times, 50):,.0f} deliveries/s;"
              f" target {target_s(args.vendors):.0f} s); the workers' peak RSS {rss:.0f} MiB"
              f" ({warm_rss:.0f} MiB after its warm-up)")  # fmt: skip
        events = [r["events_seconds"] for r in results]
        print(f"intent.matched events (and webhooks), the follow-up step: all within {max(events) * 1000:.0f} ms")
        print(f"total run {time.perf_counter() - started:.0f} s")
        return
    best_rate = args.vendors / percentile(times, 50)
    naive_rate = naive_count / naive_seconds
    header("Results")
    print(f"{'design':<44} {'to all inboxes':>15} {'deliveries/s':>13}")
    print(f"{'bulk pipeline (p50 of ' + str(len(times)) + ' runs)':<44} {percentile(times, 50) * 1000:>12.0f} ms"
          f" {best_rate:>13,.0f}")  # fmt: skip
    print(f"{'bulk pipeline (slowest run)':<44} {max(times) * 1000:>12.0f} ms {args.vendors / max(times):>13,.0f}")
    print(f"{'naive: one Celery task per vendor':<44} {naive_seconds * 1000:>12.0f} ms {naive_rate:>13,.0f}")
    print(f"\nspeed-up: {best_rate / naive_rate:.0f}x (target >= 10x);"
          f" all {args.vendors:,} inboxes within {max(times) * 1000:.0f} ms at worst"
          f" (target {target_s(args.vendors) * 1000:.0f} ms); the workers' peak RSS {rss:.0f} MiB"
          f" ({warm_rss:.0f} MiB after its warm-up)")  # fmt: skip
    events = [r["events_seconds"] for r in results]
    print(f"the vendors' intent.matched events (and webhooks), a follow-up step: all written within"
          f" {max(events) * 1000:.0f} ms at worst (p50 {percentile(events, 50) * 1000:.0f} ms)")  # fmt: skip
    print("The pipeline run also writes a pseudonym per vendor and, in its follow-up step, an intent.matched"
          " event; the naive tasks write only the Delivery, so the ratio understates the difference.")  # fmt: skip
    print(f"total run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
