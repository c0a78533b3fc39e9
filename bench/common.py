"""What every bench script needs: Django on the bench database, a clean slate, a real Celery
worker, percentiles."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """Make the repository importable (the scripts run as ``python bench/x.py``), create the
    bench database if it is missing, start Django on it and migrate it."""
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    from bench import settings as bench_settings

    ensure_database(os.environ.get("BENCH_DATABASE_URL", bench_settings.DEFAULT_DATABASE_URL))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not parts.scheme.startswith("postgres"):
        raise SystemExit(f"The benchmarks need PostgreSQL; BENCH_DATABASE_URL is {url}")
    try:
        conn = psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password) if parts.password else None,
            dbname="postgres",
            autocommit=True,
        )
    except psycopg.OperationalError as error:
        raise SystemExit(
            f"PostgreSQL is not reachable ({error}). Start it with "
            "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' or set BENCH_DATABASE_URL."
        ) from None
    with conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


KEEP_TABLES = {"django_migrations", "django_content_type", "auth_permission"}


def reset_data() -> None:
    """Drop every generated row (the schema stays), so each run starts from nothing."""
    from django.db import connection

    tables = [t for t in connection.introspection.table_names() if t not in KEEP_TABLES]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


def broker_url() -> str:
    from django.conf import settings

    return settings.CELERY_BROKER_URL


def flush_broker() -> None:
    """Empty the bench's own Redis db (never another one)."""
    import redis

    redis.Redis.from_url(broker_url()).flushdb()


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory (Linux ``VmHWM``), in MiB; NaN where /proc has none."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def header(title: str) -> None:
    print()
    print(title)
    print("=" * len(title))


class Worker:
    """One real Celery worker (solo pool: one task at a time) on the bench broker, consuming
    the project's queues plus whatever bench task modules are named in ``include``."""

    def __init__(
        self,
        include: tuple[str, ...] = ("bench.naive_tasks",),
        log_path: Path | None = None,
        *,
        name: str = "bench",
        flush: bool = True,
    ):
        self.include = include
        self.name = name
        self.flush = flush
        self.log_path = log_path or ROOT / "var" / "bench-worker.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Worker:
        if self.flush:  # the first of several workers empties the broker; the others join it
            flush_broker()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT)}
        celery = Path(sys.executable).parent / "celery"
        command = [
            str(celery),
            "-A",
            "broker",
            "worker",
            "-Q",
            "matching,webhooks,default",
            "--pool=solo",
            "-c",
            "1",
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{self.name}-{os.getpid()}@%h",
        ]
        for module in self.include:
            command += ["-I", module]
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        import redis

        from bench.naive_tasks import READY_KEY, ping

        client = redis.Redis.from_url(broker_url())
        client.delete(READY_KEY)
        ping.delay()
        deadline = time.monotonic() + timeout
        while not client.get(READY_KEY):
            if self.process.poll() is not None:
                raise SystemExit(f"The Celery worker exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise SystemExit(f"The Celery worker did not start in {timeout:.0f} s; see {self.log_path}")
            time.sleep(0.05)

    def peak_rss_mb(self) -> float:
        """The worker process's peak resident memory so far (Linux ``VmHWM``), in MiB."""
        return peak_rss_mb(self.process.pid)

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
