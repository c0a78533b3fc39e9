"""A real Celery worker on a real Redis, against the test database.

Each test gets a private ``redis-server`` on a free port (so a test may stop it without
disturbing anything else) and workers started as subprocesses with the project's own settings.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from kombu import pools as kombu_pools

from broker.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


class RedisServer:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.reachable, 10, message="redis-server to accept connections")

    def reachable(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class Worker:
    """``celery worker`` (with an embedded beat when asked) in a subprocess."""

    def __init__(self, redis: RedisServer, log_path: Path, *, beat: bool = False, extra_env: dict | None = None):
        settings = connection.settings_dict
        database_url = (
            f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "broker.settings.test",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": redis.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.log_path = log_path
        self.beat = beat
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "broker",
            "worker",
            "-Q",
            "matching,webhooks,default",
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ]
        if self.beat:
            command += ["-B", "--schedule", str(self.log_path.with_suffix(".beat"))]
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for(
            lambda: b"ready." in self.log_path.read_bytes() or self.process.poll() is not None,
            60,
            message="the worker to be ready",
        )
        assert self.process.poll() is None, self.log_path.read_text()
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9 the whole worker (main process and its pool children)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def queue_on(redis_server, monkeypatch):
    """This process publishes tasks to the private Redis instead of running them in-process.

    Celery reads ``CELERY_BROKER_URL`` from the environment before its configuration, so the
    variable is pointed at the private Redis too (a developer's shell often exports one)."""
    monkeypatch.setenv("CELERY_BROKER_URL", redis_server.url)
    saved = {"broker_url": celery_app.conf.broker_url, "task_always_eager": celery_app.conf.task_always_eager}

    def reset_pools() -> None:
        # kombu keeps connection and producer pools in a global registry keyed by broker URL:
        # clear it, or a later in-process (eager) task picks up a pool closed here.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        kombu_pools.reset()

    celery_app.conf.broker_url = redis_server.url
    celery_app.conf.task_always_eager = False
    reset_pools()
    yield redis_server
    celery_app.conf.broker_url = saved["broker_url"]
    celery_app.conf.task_always_eager = saved["task_always_eager"]
    reset_pools()


@pytest.fixture
def start_worker(queue_on, tmp_path):
    workers: list[Worker] = []

    def start(**options) -> Worker:
        worker = Worker(queue_on, tmp_path / f"worker-{len(workers)}.log", **options).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
