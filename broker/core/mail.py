"""Email, sent by a Celery task once the transaction that decided it has committed, so a web
request never waits on a mail server and a rolled-back change sends nothing."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def email_after_commit(*, to: str, subject: str, body: str) -> None:
    """Queue one plain-text email to ``to`` for after the current transaction commits."""
    if to:
        transaction.on_commit(lambda: _enqueue(to=to, subject=subject, body=body))


def _enqueue(*, to: str, subject: str, body: str) -> None:
    try:
        send_email.delay(to=to, subject=subject, body=body)
    except (OperationalError, OSError):  # the queue is unreachable: the change stands, the email is lost
        log.warning("email %r not queued", subject, exc_info=True)


@shared_task(autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_email(*, to: str, subject: str, body: str) -> None:
    """Send one email; a mail server that is down (``OSError``) is tried again with backoff."""
    send_mail(subject, body, None, [to])
