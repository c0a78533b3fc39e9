"""A request id on every log line of a request and of the Celery tasks it enqueues.

Hand-written (a contextvar, a logging filter, two Celery signals) rather than django-guid: it is
thirty lines, needs no new dependency, and keeps the header rules (what a proxy may pass in) ours.
The middleware that sets it is ``broker.middleware.RequestIdMiddleware``; the signals are
connected in ``broker.celery``.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar, Token
from typing import Any

HEADER = "X-Request-ID"
CELERY_HEADER = "request_id"
# What a proxy may hand us: a short token of letters, digits and - _ . (a UUID, a hex id).
SAFE = re.compile(r"[A-Za-z0-9._-]{8,128}")

current: ContextVar[str] = ContextVar("request_id", default="-")


def new_id() -> str:
    return uuid.uuid4().hex


def accept(value: str | None) -> str:
    """The proxy's id if it is a safe token, otherwise a new one."""
    if value and SAFE.fullmatch(value):
        return value
    return new_id()


def bind(value: str) -> Token[str]:
    return current.set(value)


def unbind(token: Token[str]) -> None:
    current.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` ("-" outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get()
        return True


def on_before_task_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Celery ``before_task_publish``: the task carries the id of the request that enqueued it."""
    value = current.get()
    if headers is not None and value != "-":
        headers.setdefault(CELERY_HEADER, value)


_task_tokens: dict[str, Token[str]] = {}


def on_task_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """Celery ``task_prerun``: the worker logs under the id the task was published with."""
    request = getattr(task, "request", None)
    # A worker puts custom message headers on the request; an eager ``apply`` keeps them in .headers.
    value = getattr(request, CELERY_HEADER, None) or (getattr(request, "headers", None) or {}).get(CELERY_HEADER)
    if task_id and isinstance(value, str) and SAFE.fullmatch(value):
        _task_tokens[task_id] = bind(value)


def on_task_postrun(task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        unbind(token)
