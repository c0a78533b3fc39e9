"""The Celery application.

With no ``CELERY_BROKER_URL`` the settings make every task run in-process
(``task_always_eager``), so the embedded default needs no Redis. The modules that define tasks
are listed in ``CELERY_IMPORTS``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broker.settings.local")

app = Celery("intentcast")
app.config_from_object("django.conf:settings", namespace="CELERY")
