"""The embedded default for ``make demo`` and development: debug on, SQLite and in-process
tasks unless the environment says otherwise."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-local-development-key-not-for-production")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE", "true")

from .base import *  # noqa: E402,F403
