"""Load benchmark: the whole pipeline under a steady stream of requests.

Customers publish requests at a fixed rate, each matching 50 of 100,000 subscribed vendors, for
``--duration`` seconds per rate, through the real pipeline (``publish_intent`` -> outbox ->
Celery on Redis -> matching and bulk deliveries -> the vendors' ``intent.matched`` events) on
two Celery worker processes. For a rising series of rates it prints the publish->inbox latency
(p50/p99: from the call that publishes until all 50 deliveries are visible to a reader outside
the workers), the throughput reached, the CPU seconds spent by the workers, by PostgreSQL (this
database's backends) and by the publishers, and the workers' peak memory; then the highest rate
whose p99 stayed under 1 s.

    python bench/load.py                         # rates 10,20,50,100,200 per s, 60 s each (~11 min)
    python bench/load.py --duration 10           # the same ladder, 10 s each (~3 min)
    python bench/load.py --rates 50,100 --duration 10 --vendors 20000   # quicker still

Publishing runs in ``--publishers`` separate processes (a fixed schedule each, so a slow
publish does not lower the offered rate unless the publishers themselves fall behind, which is
printed). A publisher calls ``publish_intent`` itself: the service's transaction (the intent and
its outbox event; the category's schema, the default agreement and the review rules come from
the process's memory) and the enqueue after commit. It is not the website's path, which adds
the session and CSRF middleware, the request form's validation (its own reads of the roster and
the taxonomy), ``publish_with_audience`` and the redirect: the publishers' CPU is the service's
floor, not what a web server would spend per request.

Each rate starts from an empty pipeline: after its last request reached its inboxes, the bench
waits until no outbox event is left unprocessed and the broker's queues are empty (the events of
a large audience come after its inboxes), and prints how long that took. A rate whose backlog
does not drain within ``--drain`` seconds ends the ladder: a higher rate would start behind and
measure the previous one's backlog. The machine is shared: compare the rates within one run,
and read the CPU split per request, not the absolute figures. Prints figures; asserts none of
them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Worker, header, peak_rss_mb, percentile, reset_data, setup_django  # noqa: E402

AUDIENCE = 50
CUSTOMERS = 200
TICKS = os.sysconf("SC_CLK_TCK")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="10,20,50,100,200", help="requests per second, comma-separated")
    parser.add_argument("--duration", type=float, default=60, help="seconds of publishing per rate (default 60)")
    parser.add_argument("--vendors", type=int, default=100_000, help="subscribed vendors (default 100,000)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (default 2)")
    parser.add_argument("--publishers", type=int, default=2, help="publishing processes (default 2)")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait for the last deliveries of a rate")
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",")]
    return args


def group_word(group: int) -> str:
    """The keyword of one group of ``AUDIENCE`` vendors; a request naming it reaches that group."""
    return f"lot{group:05d}"


def plant(vendors: int, category, region) -> int:
    """``vendors`` approved vendors in groups of ``AUDIENCE``, each with one subscription to the
    category and region and its group's keyword. Returns the number of groups."""
    from bench import data
    from vendors.models import Vendor
    from vendors.services import subscription_key_rows

    ids = data.copy_vendors([Vendor.Status.APPROVED] * vendors, name="Dealer")
    groups = vendors // AUDIENCE
    batch = []
    for n, vendor_id in enumerate(ids):
        keywords = [group_word(n % groups)]
        subscription = data.GeneratedSubscription(
            id=uuid.uuid4(),
            vendor_id=vendor_id,
            categories=[category.pk],
            regions=[region.pk],
            keywords=keywords,
            filters={},
            min_budget=None,
            min_budget_currency="",
            daily_cap=None,
            active=True,
        )
        batch.append((subscription, subscription_key_rows(keywords, "en", [category.pk], [region.lft])))
        if len(batch) == 20_000:
            data.copy_subscriptions(batch)
            batch = []
    if batch:
        data.copy_subscriptions(batch)
    return groups


def publisher(
    index: int,
    count: int,
    rate: float,
    start_at: float,
    duration: float,
    first_group: int,
    groups: int,
    setup: dict,
    out,
) -> None:
    """Publish ``count`` requests, the ``index``-th of every ``publishers``, on a fixed schedule
    from ``start_at`` (wall clock) until ``duration`` has passed; report (intent id, when the
    publishing call began)."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from intents.models import Category, Region
    from intents.services import publish_intent

    connections.close_all()  # the parent's connection is not ours to use
    customers = list(get_user_model().objects.filter(pk__in=setup["customers"]))
    category = Category.objects.get(pk=setup["category"])
    region = Region.objects.get(pk=setup["region"])
    step = setup["publishers"]
    behind = 0.0
    stop_at = start_at + duration
    for k in range(count):
        n = k * step + index
        due = start_at + n / rate
        if time.time() > stop_at:  # behind schedule at the end: the offered rate was not reached
            break
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        else:
            behind = max(behind, -wait)
        group = (first_group + n) % groups
        began = time.time()
        intent = publish_intent(
            customer=customers[n % len(customers)],
            title=f"Used hatchback wanted, {group_word(group)}",
            details="Five doors, petrol, up to 60,000 miles.",
            category=category,
            region=region,
        )
        out.put((str(intent.pk), began))
    cpu = os.times()
    out.put(("done", (behind, cpu.user + cpu.system)))


@dataclass
class CpuMeter:
    """CPU seconds used by processes, sampled while they run: the workers, the publishers and
    this database's PostgreSQL backends (found in ``pg_stat_activity``; a backend's last sample
    counts once it has gone). Only what they used since ``start`` counts: the workers and their
    backends outlive a rate, and what they used at the rates before is not this rate's."""

    seen: dict[int, float] = field(default_factory=dict)
    since: dict[int, float] = field(default_factory=dict)

    def start(self, pids) -> None:
        self.since = {pid: self.cpu(pid) or 0.0 for pid in pids}

    @staticmethod
    def cpu(pid: int, children: bool = False) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
        return ticks / TICKS

    def sample(self, pids) -> None:
        for pid in pids:
            used = self.cpu(pid)
            if used is not None:
                self.seen[pid] = max(self.seen.get(pid, 0.0), used)

    def total(self) -> float:
        return sum(used - self.since.get(pid, 0.0) for pid, used in self.seen.items())


def backend_pids() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def delivered(intent_ids: list[str]) -> list[str]:
    """Which of these requests are in their inboxes. A request's deliveries commit together (one
    transaction for an audience of up to ``FANOUT_ONE_STEP_MAX``, which ``AUDIENCE`` is), so the
    first one found stands for all of them: one index probe per request. Counting every
    request's deliveries cost this poller 11 ms per 500 pending requests every 10 ms, CPU the
    pipeline needed once it fell behind; ``incomplete`` checks the counts once per rate."""
    from django.db import connection

    from vendors.models import Delivery

    if not intent_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT i FROM unnest(%s::uuid[]) AS i WHERE EXISTS"  # noqa: S608
            f" (SELECT 1 FROM {Delivery._meta.db_table} d WHERE d.intent_id = i)",
            [intent_ids],
        )
        return [str(row[0]) for row in cursor.fetchall()]


def incomplete(intent_ids: list[str]) -> int:
    """How many of these requests (found by ``delivered``) are in fewer than ``AUDIENCE`` inboxes."""
    from django.db import connection

    from vendors.models import Delivery

    if not intent_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {Delivery._meta.db_table} WHERE intent_id = ANY(%s::uuid[])"  # noqa: S608
            " GROUP BY intent_id HAVING count(*) < %s) short",
            [intent_ids, AUDIENCE],
        )
        return cursor.fetchone()[0]


QUEUES = ("matching", "webhooks", "default")


def backlog() -> int:
    """Work the pipeline still has to do: outbox events not yet processed, and messages waiting
    in the bench broker's queues (a message taken by a worker is no longer in its list)."""
    import redis

    from bench.common import broker_url
    from broker.models import OutboxEvent

    client = redis.Redis.from_url(broker_url())
    queued = sum(client.llen(name) for name in QUEUES)
    return OutboxEvent.objects.filter(processed_at__isnull=True).count() + queued


def drain(timeout: float) -> float | None:
    """Wait until ``backlog()`` is empty; how long that took, or None if it did not within ``timeout``."""
    started = time.monotonic()
    while backlog():
        if time.monotonic() - started > timeout:
            return None
        time.sleep(0.05)
    return time.monotonic() - started


def run_rate(rate: float, args, setup: dict, first_group: int, groups: int, workers: list[Worker]) -> dict:
    """Publish at ``rate`` for ``args.duration`` s; wait for every request's inboxes."""
    from django.db import connections

    total = max(1, round(rate * args.duration))
    per = [len(range(i, total, args.publishers)) for i in range(args.publishers)]
    results: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()
    start_at = time.time() + 1.0
    connections.close_all()
    procs = [
        multiprocessing.get_context("fork").Process(
            target=publisher,
            args=(i, per[i], rate, start_at, args.duration, first_group, groups, setup, results),
        )
        for i in range(args.publishers)
    ]
    for proc in procs:
        proc.start()
    pending: dict[str, float] = {}
    found: list[str] = []
    latencies: list[float] = []
    done, behind, published = 0, 0.0, 0
    first_publish, last_delivery = None, start_at
    workers_cpu, backends_cpu = CpuMeter(), CpuMeter()
    worker_pids = [w.process.pid for w in workers]
    workers_cpu.start(worker_pids)
    backends_cpu.start(backend_pids())
    publishers_cpu = 0.0
    deadline = None
    next_cpu = 0.0
    while True:
        try:
            while True:
                intent_id, value = results.get_nowait()
                if intent_id == "done":
                    done += 1
                    behind = max(behind, value[0])
                    publishers_cpu += value[1]
                else:
                    pending[intent_id] = value
                    published += 1
                    first_publish = value if first_publish is None else min(first_publish, value)
        except queue.Empty:
            pass
        now = time.time()
        for intent_id in delivered(list(pending)):
            latencies.append(now - pending.pop(intent_id))
            found.append(intent_id)
            last_delivery = now
        if time.monotonic() >= next_cpu:
            workers_cpu.sample(worker_pids)
            backends_cpu.sample(backend_pids())
            next_cpu = time.monotonic() + 0.5
        if done == len(procs):
            if deadline is None:
                deadline = time.time() + args.drain
            if not pending or time.time() > deadline:
                break
        time.sleep(0.01)
    for proc in procs:
        proc.join()
    drained = drain(args.drain)  # the next rate starts from an empty pipeline
    workers_cpu.sample(worker_pids)
    backends_cpu.sample(backend_pids())
    window = max(last_delivery - (first_publish or start_at), 1e-9)
    return {
        "rate": rate,
        "published": published,
        "publish_rate": published / args.duration,
        "behind": behind,
        "delivered": len(latencies),
        "lost": len(pending) + incomplete(found),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "max": max(latencies, default=float("nan")),
        "throughput": len(latencies) / window,
        "workers_cpu": workers_cpu.total(),
        "backends_cpu": backends_cpu.total(),
        "publishers_cpu": publishers_cpu,
        "window": window,
        "rss": max(peak_rss_mb(pid) for pid in worker_pids),
        "drained": drained,
    }


def per_request(row: dict) -> str:
    """The CPU split per published request, in ms (the measure to compare: it does not depend on
    how far behind the pipeline fell)."""
    n = max(row["published"], 1)
    return (
        f"CPU ms: workers {row['workers_cpu'] / n * 1000:.1f}, PostgreSQL {row['backends_cpu'] / n * 1000:.1f},"
        f" publishers {row['publishers_cpu'] / n * 1000:.1f}"
    )


def drained_text(seconds: float | None) -> str:
    if seconds is None:
        return "backlog left after the drain"
    return f"pipeline empty {seconds:.1f} s after the last inbox"


def main() -> None:
    args = parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from bench import data

    header(
        f"Load: requests at a steady rate, each to {AUDIENCE} of {args.vendors:,} vendors,"
        f" {args.workers} worker processes ({os.cpu_count()} CPUs)"
    )
    started = time.perf_counter()
    reset_data()
    tax = data.build_taxonomy()
    category, region = tax.by_slug["hatchbacks"], tax.regions["GB-LND"]
    groups = plant(args.vendors, category, tax.regions["GB"])
    password = make_password("x" * 12)
    users = get_user_model().objects.bulk_create(
        [
            get_user_model()(username=f"load-{n}", email=f"load-{n}@bench.example", password=password)
            for n in range(CUSTOMERS)
        ]
    )
    data.analyze()
    setup = {
        "customers": [u.pk for u in users],
        "category": category.pk,
        "region": region.pk,
        "publishers": args.publishers,
    }
    print(f"{args.vendors:,} vendors in {groups:,} groups of {AUDIENCE}, {CUSTOMERS} customers ready"
          f" [{time.perf_counter() - started:.1f} s]; {args.duration:.0f} s per rate", flush=True)  # fmt: skip

    rows = []
    workers = [
        Worker(name=f"load{n}", flush=n == 0, log_path=ROOT / "var" / f"bench-load-worker-{n}.log")
        for n in range(args.workers)
    ]
    try:
        for worker in workers:
            worker.__enter__()
        # Warm up: every worker's first tasks (imports, connections) are not timed.
        warm = run_rate(10, argparse.Namespace(**{**vars(args), "duration": 2}), setup, 0, groups, workers)
        print(f"  warm-up: {warm['delivered']} requests, p50 {warm['p50'] * 1000:.0f} ms", flush=True)
        first_group = warm["published"]
        for rate in args.rates:
            if backlog():
                print(f"  {rate:>6.0f}/s not run: the previous rate's backlog did not drain within {args.drain:.0f} s")
                break
            row = run_rate(rate, args, setup, first_group, groups, workers)
            first_group += row["published"]
            rows.append(row)
            print(f"  {rate:>6.0f}/s offered: published {row['published']:,} ({row['publish_rate']:.0f}/s,"
                  f" publishers at most {row['behind'] * 1000:.0f} ms behind schedule); {row['delivered']:,} in all"
                  f" inboxes, {row['lost']} not in all of theirs within the drain; p50 {row['p50'] * 1000:.0f} ms, p99"
                  f" {row['p99'] * 1000:.0f} ms, max {row['max'] * 1000:.0f} ms; {row['throughput']:.0f} requests/s"
                  f" = {row['throughput'] * AUDIENCE:,.0f} deliveries/s; CPU s: workers {row['workers_cpu']:.0f},"
                  f" PostgreSQL {row['backends_cpu']:.0f}, publishers {row['publishers_cpu']:.0f}"
                  f" over {row['window']:.0f} s; {drained_text(row['drained'])}; per request {per_request(row)}",
                  flush=True)  # fmt: skip
    finally:
        for worker in reversed(workers):
            worker.__exit__(None, None, None)

    header("Results")
    print(f"{'offered/s':>9} {'published/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'reached/s':>9} {'deliveries/s':>12}"
          f" {'late':>5} {'CPU: workers':>12} {'PostgreSQL':>10} {'publishers':>10} {'worker RSS':>10}")  # fmt: skip
    for row in rows:
        print(f"{row['rate']:>9.0f} {row['publish_rate']:>11.0f} {row['p50'] * 1000:>8.0f} {row['p99'] * 1000:>8.0f}"
              f" {row['throughput']:>9.0f} {row['throughput'] * AUDIENCE:>12,.0f} {row['lost']:>5}"
              f" {row['workers_cpu']:>10.0f} s {row['backends_cpu']:>8.0f} s {row['publishers_cpu']:>8.0f} s"
              f" {row['rss']:>7.0f} MiB")  # fmt: skip
    fine = [row for row in rows if row["p99"] < 1.0 and row["lost"] == 0 and row["drained"] is not None]
    best = max(fine, key=lambda row: row["rate"]) if fine else None
    if best:
        print(f"\nhighest rate with p99 under 1 s: {best['rate']:.0f} requests/s"
              f" ({best['rate'] * AUDIENCE:,.0f} deliveries/s; target >= 100/s = 5,000 deliveries/s)")  # fmt: skip
    else:
        print("\nno rate kept p99 under 1 s (target >= 100 requests/s)")
    print("CPU s = CPU seconds over the rate's window, read from /proc: the Celery workers, this database's"
          " PostgreSQL backends, the publishing processes (publish_intent: the request, its outbox event,"
          " the enqueue). The machine is shared; its other load is not counted.")  # fmt: skip
    print(f"total run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
