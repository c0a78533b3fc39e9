"""The Celery application.

With no ``CELERY_BROKER_URL`` the settings make every task run in-process
(``task_always_eager``), so the embedded default needs no Redis. The modules that define tasks
are listed in ``CELERY_IMPORTS``.
"""

import os
from functools import partial
from typing import Any

from celery import Celery
from celery.fixups.django import DjangoFixup, DjangoWorkerFixup  # type: ignore[attr-defined]  # not in celery-types
from celery.signals import before_task_publish, import_modules, task_postrun, task_prerun
from celery.worker.consumer import Consumer
from django.db import close_old_connections

from broker.core import request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broker.settings.local")

app = Celery("intentcast")
app.config_from_object("django.conf:settings", namespace="CELERY")


class ConnectionReusingWorkerFixup(DjangoWorkerFixup):
    """Celery's Django fix-up closes every database connection before and after each task, so
    each task paid for a new PostgreSQL connection (half the cost of a webhook delivery). This
    one does what Django does around a request instead: a connection is closed only when it is
    broken, in an unfinished transaction or older than ``CONN_MAX_AGE``, and
    ``CONN_HEALTH_CHECKS`` checks a reused one before a task's first query."""

    def close_database(self, **kwargs: Any) -> None:
        close_old_connections()


def reuse_database_connections(sender: Celery, **kwargs: Any) -> None:
    """Put the fix-up above in place of Celery's as a worker starts (before ``worker_init``
    installs it; not at import, which would read the settings while they are being imported)."""
    for fixup in sender._fixups or []:  # type: ignore[attr-defined]
        if isinstance(fixup, DjangoFixup) and not isinstance(fixup.worker_fixup, ConnectionReusingWorkerFixup):
            fixup.worker_fixup = ConnectionReusingWorkerFixup(sender)  # type: ignore[misc]


import_modules.connect(reuse_database_connections, sender=app, weak=False)


class PromptlyReconnectingConsumer(Consumer):
    """A worker that lost Redis tries again every second or two (the setting
    ``CELERY_WORKER_CONSUMER`` names this class). kombu's default waits 2, 4, 6 ... up to 30 s
    between attempts, so after an outage of a minute the worker would notice Redis is back
    only up to 30 s later; an attempt costs one refused TCP connection."""

    def ensure_connected(self, conn: Any) -> Any:
        conn.ensure_connection = partial(conn.ensure_connection, interval_start=1, interval_step=1, interval_max=2)
        return super().ensure_connected(conn)


# Every task logs under the request id of the request that enqueued it (broker.core.request_id).
before_task_publish.connect(request_id.on_before_task_publish, weak=False)
task_prerun.connect(request_id.on_task_prerun, weak=False)
task_postrun.connect(request_id.on_task_postrun, weak=False)
