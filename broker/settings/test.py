"""The test suite: PostgreSQL and Redis at their usual local addresses unless the environment
says otherwise."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-test-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/intentcast")
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE", "true")

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

# Unit tests run tasks in-process; the integration tests start a real worker on Redis
# and switch this off themselves.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploads stay on this machine, in a temporary directory, whatever the environment says.
MEDIA_STORAGE = "local"
MEDIA_ROOT = Path(tempfile.gettempdir()) / "intentcast-test-media"
# The API's rate limits are out of the way of the other tests; a test of them lowers the rate it
# checks (API_THROTTLE_RATES, with pytest-django's settings fixture) and clears the cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "intentcast-test"}}
API_THROTTLE_RATES = {"read": "100000/min", "write": "100000/min", "anon": "100000/min"}
