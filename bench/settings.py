"""Settings for the benchmarks and for the Celery worker they start.

A database and a Redis db of their own, so a bench never touches the test suite's
(``BENCH_DATABASE_URL``, default ``intentcast_bench``; ``BENCH_BROKER_URL``, default Redis db 11),
and a real broker: tasks are queued and run by a worker, never in-process.
"""

import os

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/intentcast_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/11"

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ["CELERY_BROKER_URL"] = os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER_URL)
os.environ["WEBHOOKS_ALLOW_PRIVATE"] = "true"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from broker.settings.base import *  # noqa: E402,F403
from broker.settings.base import CELERY_BROKER_URL  # noqa: E402

assert CELERY_BROKER_URL, "the benchmarks need a real broker"
CELERY_TASK_ALWAYS_EAGER = False
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
