"""Settings shared by every environment. Everything that differs comes from the environment.

``DATABASE_URL`` unset means SQLite in ``var/``; ``CELERY_BROKER_URL`` unset means tasks run
in-process. Those two defaults are what make ``make demo`` work on a bare machine.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
import orjson
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "allauth",
    "allauth.account",
    "broker",
    "intents",
    "vendors",
    "reputation",
    "moderation",
]

# The Website* middleware are Django's (and WhiteNoise's) that requests to the vendor API
# (/api/v1/) pass straight by, and the policy middleware builds the API's policy once
# (broker.middleware); every other request goes through all of them as before.
MIDDLEWARE = [
    "broker.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "broker.middleware.ContentSecurityPolicyMiddleware",
    "broker.middleware.PermissionsPolicyMiddleware",
    "broker.middleware.WebsiteStaticFilesMiddleware",
    "broker.middleware.WebsiteSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "broker.middleware.ApiLimitsMiddleware",
    "broker.middleware.RejectNulCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "broker.middleware.WebsiteAuthenticationMiddleware",
    "broker.middleware.WebsiteMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "broker.middleware.CustomerPagesMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "broker.urls"
WSGI_APPLICATION = "broker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "broker" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # Her request page's offers section only (broker/website/jinja.py says why).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "broker" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "broker.website.jinja.environment",
            "extensions": ["jinja2.ext.do"],
            "trim_blocks": True,
            "lstrip_blocks": True,
        },
    },
]

DATABASES = {
    # The demo's file is named for the migrations' layout (a var/db.sqlite3 from before the
    # one-way migrations of November 2026 is simply left unused).
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'intentcast.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web server and bots write at the same time: wait for the lock, take it up front.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
# Persistent connections, checked before reuse: a web process or a Celery worker keeps its
# connection across requests and tasks instead of paying a new one each time (the worker's
# per-task close is replaced in broker.celery), and a connection PostgreSQL dropped is noticed
# and replaced before it is used.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: email is the login; customers never pick a public username.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_UNIQUE_EMAIL = True
# Vendor logins land in the vendor area, customers on their requests (broker.vendor_site.adapter).
ACCOUNT_ADAPTER = "broker.vendor_site.adapter.AccountAdapter"
LOGIN_REDIRECT_URL = "intents:list"
ACCOUNT_LOGOUT_REDIRECT_URL = "intents:home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploaded files (the photos of bids). MEDIA_STORAGE=local (the default: the demo, development,
# tests) keeps them under MEDIA_ROOT and Django serves them at MEDIA_URL with safe headers
# (broker.api.photos.serve_photo); MEDIA_STORAGE=s3 keeps them in an S3-compatible bucket
# (django-storages) that serves them itself. The keys come from the environment as boto3 reads
# them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), never from here.
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")
if MEDIA_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default=None),
            "location": env.str("AWS_LOCATION", default=""),
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=True),
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=3600),
            "default_acl": env.str("AWS_DEFAULT_ACL", default=None),
            "file_overwrite": False,
            # The bucket serves the file as the image it is, shown in place, never as a download or a page.
            "object_parameters": {"ContentDisposition": "inline", "CacheControl": "max-age=86400"},
        },
    }
elif MEDIA_STORAGE != "local":
    raise ValueError(f"MEDIA_STORAGE must be 'local' or 's3', not {MEDIA_STORAGE!r}.")

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if env("EMAIL_URL", default=""):
    # smtp://user:password@host:587 → EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, ... (django-environ)
    vars().update(env.email_url("EMAIL_URL"))
# Absolute links in emails.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="intentcast <noreply@intentcast.invalid>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["broker.api.authentication.VendorKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["broker.api.permissions.IsApprovedVendor"],
    "DEFAULT_RENDERER_CLASSES": ["drf_orjson_renderer.renderers.ORJSONRenderer"],
    # A list's field messages are keyed by the item's index: as the json module, orjson then writes
    # the number as a string ({"events": {"0": [...]}}).
    "ORJSON_RENDERER_OPTIONS": (orjson.OPT_NON_STR_KEYS,),
    "DEFAULT_PARSER_CLASSES": ["broker.api.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "broker.api.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["broker.api.filtering.ApiFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "broker.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    # Several objects have a "status"; each enum gets the name of what it is the status of.
    "ENUM_NAME_OVERRIDES": {
        "IntentStatusEnum": "intents.models.Intent.Status",
        "BidStatusEnum": "vendors.models.Bid.Status",
        "CounterStatusEnum": "vendors.models.BidCounter.Status",
        "WebhookDeliveryStatusEnum": "vendors.models.WebhookDelivery.Status",
        "VendorStatusEnum": "vendors.models.Vendor.Status",
        "EventKindEnum": "vendors.models.VendorEvent.Kind",
        "ErrorCodeEnum": "broker.api.errors.error_codes",
        "CurrencyEnum": "broker.core.money.circulating_currencies",
        "ReportReasonEnum": "moderation.models.Report.Reason",
        "ReportStatusEnum": "moderation.models.Report.Status",
    },
    "TITLE": "intentcast vendor API",
    "DESCRIPTION": "Subscribe to customers' requests, read your inbox, bid.",
    "VERSION": "1.2.1",
    # 3.1: a nullable object is oneOf [object, null], which strict validators accept.
    "OAS_VERSION": "3.1.0",
    "SERVERS": [{"url": SITE_URL}],
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # 3.1's top-level webhooks: the typed Event POSTed to the vendors' endpoints.
    "WEBHOOKS": ["broker.api.event_schemas.EVENT_WEBHOOK"],
}

# Celery. No broker URL: run every task in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# At-least-once: acknowledge after the task ran, requeue when the worker dies. Every task is
# idempotent, so running twice has the effect of running once.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Longer than the longest task (a fan-out to a very large audience takes seconds, not an hour).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# After a broker outage the worker reconnects within 2 s of Redis being back (kombu's own
# backoff grows to 30 s).
CELERY_WORKER_CONSUMER = "broker.celery:PromptlyReconnectingConsumer"
# When Redis is down, publishing fails fast and the event waits in the outbox for the sweep.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_TASK_DEFAULT_QUEUE = "default"
# The modules that define tasks, imported by every worker (tasks live beside the mechanism they run).
CELERY_IMPORTS = [
    "broker.core.outbox",
    "broker.core.mail",
    "vendors.webhooks",
    "vendors.tasks",
    "reputation.tasks",
]
CELERY_TASK_ROUTES = {
    "broker.core.outbox.process_outbox_event": {"queue": "matching"},
    "broker.core.outbox.redispatch_outbox": {"queue": "matching"},
    "vendors.webhooks.deliver_webhook": {"queue": "webhooks"},
    "vendors.webhooks.deliver_webhooks": {"queue": "webhooks"},
    "vendors.webhooks.retry_due_webhooks": {"queue": "webhooks"},
}
# The two sweeps that make recovery take seconds: each is one indexed query, so they run every
# second. A sweep message a busy worker could not take within ten sweeps is dropped (expires), so
# a long queue does not fill with sweeps that later ones make pointless.
PIPELINE_SWEEP = timedelta(seconds=env.float("PIPELINE_SWEEP_SECONDS", default=1))
_SWEEP_OPTIONS = {"expires": max(PIPELINE_SWEEP.total_seconds(), 1.0) * 10}
CELERY_BEAT_SCHEDULE = {
    "redispatch-outbox": {
        "task": "broker.core.outbox.redispatch_outbox",
        "schedule": PIPELINE_SWEEP,
        "options": _SWEEP_OPTIONS,
    },
    "retry-webhooks": {
        "task": "vendors.webhooks.retry_due_webhooks",
        "schedule": PIPELINE_SWEEP,
        "options": _SWEEP_OPTIONS,
    },
    "expire-bids": {"task": "vendors.tasks.expire_bids", "schedule": crontab(minute="*/5")},
    "expire-intents": {"task": "vendors.tasks.expire_intents", "schedule": crontab(minute="*/5")},
    "reveal-expired-ratings": {"task": "reputation.tasks.reveal_expired_ratings", "schedule": crontab(minute="*/5")},
    # Reputation: every stored score recomputed with a fresh market prior and decay; rings looked for.
    "recompute-reputation": {"task": "reputation.tasks.recompute_reputation", "schedule": crontab(minute=41)},
    "detect-rating-rings": {"task": "reputation.tasks.detect_rating_rings", "schedule": crontab(minute=11)},
    # Vendors' behaviour figures: deliveries that became due an answer with time alone.
    "sweep-vendor-behaviour": {"task": "reputation.tasks.sweep_vendor_behaviour", "schedule": crontab(minute="*/10")},
}

# The pipeline.
INTENTCAST = {
    # What each outbox event kind sets in motion (the pipeline's handlers; see broker.core.outbox).
    "OUTBOX_HANDLERS": "broker.pipeline.handlers.HANDLERS",
    # An event still unprocessed this long after it was last dispatched, and not being processed
    # right now (its row is not locked by a worker), is dispatched again: the worker that took it
    # died, or Redis lost it. A duplicate is harmless (an event is processed once).
    "OUTBOX_REDISPATCH_AFTER": timedelta(seconds=env.float("OUTBOX_REDISPATCH_AFTER_SECONDS", default=5)),
    # Event kinds whose handler takes every waiting event of its kind at once (outbox.claim_events):
    # recorded without a dispatch of their own, the sweep sends one of them a worker. A vendor's
    # behaviour figures: each offer and pass records one, and one recompute serves them all.
    "OUTBOX_TAKEN_TOGETHER": frozenset({"vendor.behaviour_changed"}),
    # How long a process may remember taxonomy look-ups, the default agreement and the active
    # review rules (intents.taxonomy_cache) before reading them again: how long another process
    # may lag behind a change to them.
    "TAXONOMY_CACHE_SECONDS": env.float("TAXONOMY_CACHE_SECONDS", default=60.0),
    # A fan-out writes deliveries and vendors' events this many vendors at a time (broker.pipeline.fanout).
    "FANOUT_CHUNK_SIZE": env.int("FANOUT_CHUNK_SIZE", default=10_000),
    # An audience of up to this many vendors gets its inboxes and its intent.matched events in one
    # task and one transaction; a larger one sees the intent in its inboxes first and its events
    # in a second step (broker.pipeline.fanout.deliver_intent).
    "FANOUT_ONE_STEP_MAX": env.int("FANOUT_ONE_STEP_MAX", default=1000),
    # A larger audience is split, in order of vendor id, into this many parts, each cast in its own
    # task and transaction, so that as many workers cast it at once (broker.pipeline.fanout). Match
    # it to the worker processes on the matching queue; 1 casts it in one transaction.
    "FANOUT_PARTS": env.int("FANOUT_PARTS", default=2),
    # ... but never into parts of fewer vendors than this: a part costs a task, a transaction and
    # a follow-up step, and on 2 cores an audience of 10,000 was cast no faster in two parts than in one.
    "FANOUT_PART_MIN": env.int("FANOUT_PART_MIN", default=10_000),
    # Deliveries are written in batches of this size.
    "DELIVERY_BATCH_SIZE": env.int("DELIVERY_BATCH_SIZE", default=2000),
    # Webhook endpoints on loopback/private addresses are refused unless this is true.
    "WEBHOOKS_ALLOW_PRIVATE": env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False),
    "WEBHOOK_TIMEOUT_SECONDS": env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0),
    # After a vendor rotates an endpoint's secret, the old secret keeps signing (beside the new
    # one) this long, so its receiver can switch without rejecting events.
    "WEBHOOK_SECRET_OVERLAP": timedelta(hours=env.float("WEBHOOK_SECRET_OVERLAP_HOURS", default=24)),
    # How long an emailed invitation to join a vendor's team stays valid.
    "VENDOR_INVITATION_DAYS": env.int("VENDOR_INVITATION_DAYS", default=7),
    # Webhooks go out in batches: one queue message, one lease and one write of the attempts per
    # batch; inside a batch, endpoints are sent to in parallel by this many threads (each
    # endpoint's deliveries one after another, in order, over one keep-alive connection).
    "WEBHOOK_BATCH_SIZE": env.int("WEBHOOK_BATCH_SIZE", default=200),
    "WEBHOOK_CONCURRENCY": env.int("WEBHOOK_CONCURRENCY", default=8),
    # How long a worker keeps a host's checked addresses and connects only to them. The system
    # resolver (getaddrinfo, which honours /etc/hosts) does not tell a record's TTL, so this
    # lifetime stands in for it; keep it at or below the TTL your vendors' records use.
    "WEBHOOK_DNS_TTL_SECONDS": env.float("WEBHOOK_DNS_TTL_SECONDS", default=60.0),
    # Photos of a bid (vendors.photos): the largest upload, the most pixels an upload may declare
    # (refused before it is decoded: decompression bombs), the longest edge of what is stored.
    "PHOTO_MAX_BYTES": env.int("PHOTO_MAX_BYTES", default=8 * 1024 * 1024),
    "PHOTO_MAX_PIXELS": env.int("PHOTO_MAX_PIXELS", default=40_000_000),
    "PHOTO_MAX_EDGE": env.int("PHOTO_MAX_EDGE", default=2048),
    "PHOTO_QUALITY": env.int("PHOTO_QUALITY", default=85),
    # Reputation (reputation.scoring; docs/reputation.md explains each with worked examples).
    "REPUTATION": {
        # The prior's weight: a new party starts at the market's mean as if it had this many ratings.
        "PRIOR_WEIGHT": env.float("REPUTATION_PRIOR_WEIGHT", default=5.0),
        # A rating's weight halves every this many days.
        "HALF_LIFE_DAYS": env.float("REPUTATION_HALF_LIFE_DAYS", default=365.0),
        # Ranking uses mean - RANK_Z standard errors (1.645: a one-sided 95% lower bound).
        "RANK_Z": env.float("REPUTATION_RANK_Z", default=1.645),
        # The prior while the market has fewer than MIN_MARKET_RATINGS counting ratings on a side.
        "DEFAULT_MEAN": env.float("REPUTATION_DEFAULT_MEAN", default=4.0),
        "DEFAULT_VARIANCE": env.float("REPUTATION_DEFAULT_VARIANCE", default=1.0),
        "MIN_MARKET_RATINGS": env.int("REPUTATION_MIN_MARKET_RATINGS", default=30),
        # No score is more certain than this variance allows.
        "MIN_VARIANCE": env.float("REPUTATION_MIN_VARIANCE", default=0.1),
        # One rating per counterparty pair and side counts per this many days.
        "REPEAT_WINDOW_DAYS": env.float("REPUTATION_REPEAT_WINDOW_DAYS", default=30.0),
        # A delivery counts as unanswered once this old (or once its request closed).
        "ANSWER_GRACE_HOURS": env.float("REPUTATION_ANSWER_GRACE_HOURS", default=48.0),
        # The ring detector: at least RING_MIN_ACCOUNTS customers, each with an account younger
        # than RING_NEW_ACCOUNT_DAYS when rating, whose only deals are with one vendor, rating it
        # at least RING_MIN_SCORE within RING_WINDOW_DAYS, are held for a moderator.
        "RING_WINDOW_DAYS": env.float("REPUTATION_RING_WINDOW_DAYS", default=14.0),
        "RING_MIN_ACCOUNTS": env.int("REPUTATION_RING_MIN_ACCOUNTS", default=5),
        "RING_NEW_ACCOUNT_DAYS": env.float("REPUTATION_RING_NEW_ACCOUNT_DAYS", default=30.0),
        "RING_MIN_SCORE": env.int("REPUTATION_RING_MIN_SCORE", default=5),
    },
    # A vendor with fewer visible ratings than this is "new": its mean is not yet a judgement, so
    # a request's minimum rating does not apply to it; she chooses whether new vendors hear her.
    "NEW_VENDOR_MIN_RATINGS": env.int("NEW_VENDOR_MIN_RATINGS", default=3),
    # The agreement (a roster code, intents.models.Agreement) a customer's first request proffers
    # unless she picks another; later requests preselect the one her latest request proffered.
    "DEFAULT_AGREEMENT": env("DEFAULT_AGREEMENT", default="standard"),
    # How soon moderators are expected to answer a report, in hours, by its reason (docs/moderation.md);
    # reports past it are "overdue" in admin.
    "REPORT_RESPONSE_HOURS": {
        "fraud": env.float("REPORT_RESPONSE_HOURS_FRAUD", default=24.0),
        "abusive": env.float("REPORT_RESPONSE_HOURS_ABUSIVE", default=24.0),
        "personal_data": env.float("REPORT_RESPONSE_HOURS_PERSONAL_DATA", default=24.0),
        "broke_agreement": env.float("REPORT_RESPONSE_HOURS_BROKE_AGREEMENT", default=72.0),
        "misleading": env.float("REPORT_RESPONSE_HOURS_MISLEADING", default=72.0),
        "spam": env.float("REPORT_RESPONSE_HOURS_SPAM", default=120.0),
        "other": env.float("REPORT_RESPONSE_HOURS_OTHER", default=120.0),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.server": {"level": env("DJANGO_SERVER_LOG_LEVEL", default="INFO")},
        "httpx": {"level": "WARNING"},
    },
}

# Hard to abuse: proxies, logins, browser policies, request ids.
# How many reverse proxies in front of the web server append to X-Forwarded-For and are trusted
# (0, the default: none; the client address is the socket's). With 1, the last X-Forwarded-For
# entry is the client's address (what allauth's rate limits count). Production also trusts the
# proxy's X-Forwarded-Proto only when this is not 0 (broker/settings/production.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Rate limits (counted in the "default" cache, shared by every web process when CACHES points at
# Redis). Failed logins are limited per account only, never per address: many customers share
# an office or mobile-carrier address, and failures against one account must never lock out
# another. The address limits count every attempt and are generous for the same reason.
ACCOUNT_RATE_LIMITS = {
    "login": env.str("ACCOUNT_RATE_LIMIT_LOGIN", default="60/m/ip"),
    "login_failed": env.str("ACCOUNT_RATE_LIMIT_LOGIN_FAILED", default="5/5m/key"),
    "signup": env.str("ACCOUNT_RATE_LIMIT_SIGNUP", default="20/m/ip"),
    "reset_password": env.str("ACCOUNT_RATE_LIMIT_RESET_PASSWORD", default="20/m/ip,3/5m/key"),
    "reset_password_from_key": "20/m/ip",
}
# Signup and password reset answer the same whether or not the address has an account (the owner
# is told by email instead).
ACCOUNT_PREVENT_ENUMERATION = True

# Content-Security-Policy (django-csp): nothing inline, nothing from elsewhere. The API docs
# pages (broker/urls.py) widen it for what Swagger UI and Redoc need. Photos kept in a bucket are
# shown from its domain: CSP_IMG_SRC lists extra image origins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *env.list("CSP_IMG_SRC", default=[])],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if MEDIA_STORAGE == "s3":
    # The bucket (or the CDN in front of it) serves the photos of bids.
    _bucket = STORAGES["default"]["OPTIONS"]
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] += [
        f"https://{_bucket['custom_domain']}"
        if _bucket["custom_domain"]
        else _bucket["endpoint_url"] or "https://*.amazonaws.com"
    ]
# Permissions-Policy (broker.middleware.PermissionsPolicyMiddleware): no powerful feature at all.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), fullscreen=(), "
    "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), "
    "picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), usb=(), xr-spatial-tracking=()"
)

# The API docs (/api/docs/, /api/redoc/) load Swagger UI and Redoc from our own static files.
SPECTACULAR_SETTINGS |= {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Every log line carries the request id (broker.core.request_id), in requests and in the Celery
# tasks they enqueue.
LOGGING["filters"] = {"request_id": {"()": "broker.core.request_id.RequestIdFilter"}}
LOGGING["formatters"] = {"default": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"}}
LOGGING["handlers"] = {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "default"}}

# Hard to abuse: the vendor API's limits, rate limits and idempotency (broker.api, broker.middleware).
# The cache: Redis when CACHE_URL (or REDIS_URL) is set, shared by every web process, which is what
# makes the rate limits hold across them (production sets it); this process's memory otherwise
# (the demo, development, tests).
CACHE_URL = env.str("CACHE_URL", default=env.str("REDIS_URL", default=""))
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "intentcast"}
    )
}
# Requests per key (a vendor) or per client address (no key, or a wrong one), DRF's "N/period".
# Writes (POST, PATCH, DELETE) have their own, stricter budget.
API_THROTTLE_RATES = {
    "read": env.str("API_THROTTLE_READ", default="600/min"),
    "write": env.str("API_THROTTLE_WRITE", default="60/min"),
    "anon": env.str("API_THROTTLE_ANON", default="60/min"),
}
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["broker.api.throttles.ApiRateThrottle"]
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT  # the client address behind trusted proxies
# What a request to /api/ may carry: a JSON body of at most this many bytes (413; photo uploads
# have their own limit, PHOTO_MAX_BYTES), nested at most this deep (400), a query string of at
# most this many characters (414; gunicorn's limit_request_line is above it).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
API_MAX_QUERY_STRING = env.int("API_MAX_QUERY_STRING", default=2048)
# Idempotency-Key on the API's POSTs: how long a key and its stored response are kept (a beat task
# sweeps the expired ones), and how long a request may hold its key before a retry may take it
# over (a worker killed mid-request).
IDEMPOTENCY_TTL = timedelta(hours=env.float("IDEMPOTENCY_TTL_HOURS", default=24))
IDEMPOTENCY_LOCK_TIMEOUT = timedelta(seconds=env.float("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", default=120))
CELERY_IMPORTS.append("broker.core.idempotency")
CELERY_BEAT_SCHEDULE["sweep-idempotency-keys"] = {
    "task": "broker.core.idempotency.sweep_idempotency_records",
    "schedule": crontab(minute=17),
}
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "broker.api.schema.document_limits",  # 429, 413, 414; Idempotency-Key, 409, 422 on POSTs
    "broker.api.schema.tell_the_truth",  # summaries, null in 3.1, the services' rules
]
