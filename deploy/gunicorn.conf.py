"""gunicorn for the web container; every value overridable from the environment."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
accesslog = "-"
# The proxies whose X-Forwarded-* headers gunicorn believes: none unless FORWARDED_ALLOW_IPS lists
# them (comma-separated addresses, or "*" when nothing but the proxy can reach this port; see
# deploy/docker-compose.yml and deploy/env.example).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")
# The longest request line gunicorn accepts (8190, its maximum): above the app's own limit on a
# query string (API_MAX_QUERY_STRING, 2048 by default), so a client sees the API's JSON 414
# rather than gunicorn's plain-text 400.
limit_request_line = int(os.environ.get("GUNICORN_LIMIT_REQUEST_LINE", 8190))
