"""The production settings (broker.settings.production) as bench/api.py serves them with gunicorn,
plus the floor: a bare DRF view on the intents table, routed by bench.urls and by nothing else.

The environment is deploy/env.example's where it matters to speed (persistent database
connections, the cache and rate-limit counts in Redis), on the bench's own database and Redis
db; plain HTTP on 127.0.0.1 (no TLS redirect), and rate limits too high to be reached.
"""

import os

# bench.settings' defaults (importing it would import broker.settings.base before this
# environment is set).
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/intentcast_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/11"

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret-" + "x" * 40)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ["CELERY_BROKER_URL"] = os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER_URL)
os.environ["CACHE_URL"] = os.environ["CELERY_BROKER_URL"]
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "false"
# Limits never reached. The count is one Redis counter per caller and window
# (broker.api.throttles), whatever the window, so per second costs what production's per minute does.
os.environ["API_THROTTLE_READ"] = "1000000/s"
os.environ["API_THROTTLE_WRITE"] = "1000000/s"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from broker.settings.production import *  # noqa: E402,F403
from broker.settings.production import DATABASES  # noqa: E402

assert DATABASES["default"]["CONN_MAX_AGE"] == int(os.environ["DATABASE_CONN_MAX_AGE"]), "imported too early"

ROOT_URLCONF = "bench.urls"
