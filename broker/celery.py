"""The Celery application.

With no ``CELERY_BROKER_URL`` the settings make every task run in-process
(``task_always_eager``), so the embedded default needs no Redis. The modules that define tasks
are listed in ``CELERY_IMPORTS``.
"""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from broker.core import request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broker.settings.local")

app = Celery("intentcast")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Every task logs under the request id of the request that enqueued it (broker.core.request_id).
before_task_publish.connect(request_id.on_before_task_publish, weak=False)
task_prerun.connect(request_id.on_task_prerun, weak=False)
task_postrun.connect(request_id.on_task_postrun, weak=False)
