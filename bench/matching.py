"""Matching benchmark: the inverted-index matcher against the brute-force reference, on
PostgreSQL, with 1k, 10k, 100k and 1M active subscriptions.

    python bench/matching.py                  # the full ladder (a few minutes)
    python bench/matching.py --quick          # 1k and 10k only
    python bench/matching.py --sizes 1000,50000 --explain

Each benchmark request matches exactly the same planted vendors at every size (see
``bench/data.py``), so the ladder shows how the cost of one match grows with the number of
subscriptions alone. Prints figures; asserts none of them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import header, percentile, reset_data, setup_django  # noqa: E402

SIZES = [1_000, 10_000, 100_000, 1_000_000]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="comma-separated active subscription counts, e.g. 1000,10000")
    parser.add_argument("--quick", action="store_true", help="1k and 10k only, fewer rounds")
    parser.add_argument("--rounds", type=int, default=25, help="timed passes over the benchmark requests")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the candidate query")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.sizes:
        args.sizes = sorted(
            int(s.replace("_", "").replace("k", "000").replace("M", "000000")) for s in args.sizes.split(",")
        )
    else:
        args.sizes = [1_000, 10_000] if args.quick else SIZES
    if args.quick:
        args.rounds = min(args.rounds, 8)
    return args


def brute_force_requests(size: int, total: int) -> int:
    """How many requests the full brute force (load everything, then scan) is timed on."""
    if size <= 20_000:
        return total
    return 5 if size <= 200_000 else 3


def explain(intent) -> None:
    """EXPLAIN ANALYZE of the matcher's one statement (``vendors.selectors.match_candidates``)."""
    import psycopg
    from django.db import connection

    from broker.pipeline.matching import intent_keys, start_of_day
    from vendors.selectors import match_candidates_statement

    keys = intent_keys(intent)
    sql, params = match_candidates_statement(
        category_ids=keys.category_ids,
        stems=keys.stems,
        region_lft=keys.region_lft,
        region_rgt=keys.region_rgt,
        region_ancestor_lfts=keys.region_ancestor_lfts,
        customer_id=intent.customer_id,
        since=start_of_day(),
        excluding_intent=intent.pk,
    )
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print("\n".join("    " + row[0] for row in cursor.fetchall()))


def fmt_size(n: int) -> str:
    return (
        f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)
    )


def main() -> None:
    args = parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from bench import data, reference
    from broker.pipeline.matching import match_intent
    from vendors.models import Subscription, SubscriptionKey, Vendor

    header("Matching: inverted index vs brute force (PostgreSQL)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"PostgreSQL {version}, {os.cpu_count()} CPUs; sizes {', '.join(map(fmt_size, args.sizes))};"
          f" {args.rounds} timed rounds per size")  # fmt: skip

    started = time.perf_counter()
    reset_data()
    customer = get_user_model().objects.create_user("bench-customer", "customer@bench.example", "x" * 12)
    tax = data.build_taxonomy()
    requests = data.create_requests(tax, customer)
    planted = data.plant_vendors(tax, requests, customer)
    print(f"taxonomy: {len(tax.by_slug)} categories, {len(tax.regions)} ISO 3166 regions;"
          f" {len(requests)} benchmark requests; {len(planted.targets)} planted target vendors"
          f" (each matches every request), {len(planted.decoys)} decoys (index candidates that fail one rule)"
          f" [{time.perf_counter() - started:.1f} s]")  # fmt: skip
    background = data.Background(tax, requests, seed=args.seed)

    rows = []
    for size in args.sizes:
        need = size - planted.active_subscriptions - background.active
        if need < 0:
            print(f"size {size} is below the planted subscriptions ({planted.active_subscriptions}); skipped")
            continue
        t0 = time.perf_counter()
        before = dict(background.timings)
        background.grow(need)
        data.analyze()
        spent = {k: background.timings[k] - before[k] for k in before}
        generate_s = time.perf_counter() - t0
        active = Subscription.objects.filter(active=True).count()
        live = Subscription.objects.filter(active=True, vendor__status=Vendor.Status.APPROVED).count()
        keys = SubscriptionKey.objects.count()
        print(f"\n[{fmt_size(size)}] {active:,} active subscriptions ({live:,} of approved vendors),"
              f" {Subscription.objects.count():,} in all, {Vendor.objects.count():,} vendors, {keys:,} index rows;"
              f" generated in {generate_s:.1f} s (python {spent['generate']:.0f} s, COPY {spent['copy']:.0f} s,"
              f" index builds {spent['index']:.0f} s); {background.rejected:,} generated subscriptions so far were"
              f" redrawn because the index would have listed them for a benchmark request")  # fmt: skip
        if args.explain:
            explain(requests[0].intent)

        # The matcher: warm up, then time every request, round after round.
        for request in requests:
            match_intent(request.intent)
        samples, matched = [], {}
        for _ in range(args.rounds):
            for request in requests:
                t = time.perf_counter()
                matches = match_intent(request.intent)
                samples.append((time.perf_counter() - t) * 1000)
                matched[request.intent.pk] = {m.vendor_id for m in matches}

        # The reference: the same vendor set for every request (one snapshot, scanned per request)...
        t = time.perf_counter()
        snapshot = reference.load_snapshot()
        load_ms = (time.perf_counter() - t) * 1000
        scan_ms, same, planted_only = [], 0, 0
        for request in requests:
            t = time.perf_counter()
            expected = set(reference.scan(snapshot, request.intent))
            scan_ms.append((time.perf_counter() - t) * 1000)
            same += expected == matched[request.intent.pk]
            planted_only += expected == planted.targets
        del snapshot
        # ...and timed as a broker without an index would run it: load everything, then scan.
        n_brute = brute_force_requests(size, len(requests))
        brute_ms = []
        for request in requests[:n_brute]:
            t = time.perf_counter()
            reference.brute_force_match(request.intent)
            brute_ms.append((time.perf_counter() - t) * 1000)

        row = {
            "size": size,
            "p50": percentile(samples, 50),
            "p99": percentile(samples, 99),
            "max": max(samples),
            "brute": percentile(brute_ms, 50),
            "n_brute": n_brute,
            "load": load_ms,
            "scan": percentile(scan_ms, 50),
            "matches": sorted({len(v) for v in matched.values()}),
            "same": same,
            "planted": planted_only,
            "requests": len(requests),
            "samples": len(samples),
        }
        rows.append(row)
        print(f"  matcher p50 {row['p50']:.2f} ms, p99 {row['p99']:.2f} ms, max {row['max']:.2f} ms over"
              f" {len(samples)} calls; brute force p50 {row['brute']:.0f} ms over {n_brute} requests"
              f" (load {load_ms:.0f} ms + scan p50 {row['scan']:.0f} ms);"
              f" same vendor set {same}/{len(requests)}, = planted targets {planted_only}/{len(requests)}",
              flush=True)  # fmt: skip

    if not rows:
        return
    header("Results")
    print(f"{'active subs':>12} {'matches/req':>11} {'p50 ms':>8} {'p99 ms':>8} {'brute p50 ms':>13}"
          f" {'(n)':>4} {'speed-up':>9} {'same set':>9}")  # fmt: skip
    for row in rows:
        matches = "/".join(map(str, row["matches"]))
        speed_up = row["brute"] / row["p50"]
        print(f"{fmt_size(row['size']):>12} {matches:>11} {row['p50']:8.2f} {row['p99']:8.2f} {row['brute']:13.1f}"
              f" {row['n_brute']:>4} {speed_up:8.0f}x {row['same']:>4}/{row['requests']:<4}")  # fmt: skip
    first, last = rows[0], rows[-1]
    growth = last["p50"] / first["p50"]
    print(f"\np50 growth {fmt_size(first['size'])} -> {fmt_size(last['size'])}: {growth:.2f}x (target < 2x)")
    print(f"p99 at {fmt_size(last['size'])}: {last['p99']:.2f} ms (target < 2 ms at 1M)")
    for row in rows:
        if row["size"] == 100_000:
            print(f"speed-up at 100k: {row['brute'] / row['p50']:.0f}x (target >= 100x)")
    print("brute force = load every live subscription with its categories, regions, keywords and filters,"
          " then check each rule in Python; timed per request on (n) requests per size, the rest only checked"
          " for the same vendor set against one snapshot.")  # fmt: skip
    print(f"same set = requests whose matcher vendor set equals the brute force's;"
          f" total run {time.perf_counter() - started:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
