"""Production: every secret and host from the environment, no defaults for them."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
# X-Forwarded-Proto is believed only when the operator says a trusted proxy is in front
# (TRUSTED_PROXY_COUNT > 0, see base.py and deploy/env.example): without one, any client could
# claim https.
if env.int("TRUSTED_PROXY_COUNT", default=0) > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Preloading is a one-way commitment for the whole domain; the operator opts in by setting
    # DJANGO_SECURE_HSTS_PRELOAD=true, and until then the reminder is not a defect.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
# Signup must not tell whether an address has an account: allauth can hide it only when every
# address is verified by email (the owner of a taken address gets an email instead).
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
# Hard to abuse (the API's rate limits): counted in Redis, one count for every web process:
# CACHE_URL (or REDIS_URL), else the Celery broker's Redis.
if not CACHE_URL and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):  # noqa: F405
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CELERY_BROKER_URL}}  # noqa: F405
