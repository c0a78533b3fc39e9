"""This process's memory of taxonomy look-ups the matcher makes for every request (a category's
ancestors, a region's enclosing regions; ``intents.selectors``), and of the other rarely edited
rows every new request reads (a category's schema, the default agreement, the active review
rules; ``intents.services.publish_intent``).

These change a few times a year and each look-up is a round trip per request, so they are
remembered. ``forget_taxonomy`` empties the memory: a saved or deleted Category, Region,
Agreement or ReviewRule calls it in the process that changed it (``intents.models``), so does
``renumber_regions``; and every process forgets after ``INTENTCAST["TAXONOMY_CACHE_SECONDS"]``,
which bounds how long another process may use a row that has since changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings

_T = TypeVar("_T")
_memory: dict[Hashable, Any] = {}
_since = [time.monotonic()]


def forget_taxonomy(**_signal: Any) -> None:
    """Empty this process's memory of taxonomy look-ups (also a signal receiver)."""
    _memory.clear()
    _since[0] = time.monotonic()


def forget(key: Hashable) -> None:
    """Forget one remembered value in this process (read again at its next use)."""
    _memory.pop(key, None)


def remembered(key: Hashable, compute: Callable[[], _T]) -> _T:
    """``compute()``'s value for ``key``, computed once per process until forgotten."""
    if time.monotonic() - _since[0] > settings.INTENTCAST["TAXONOMY_CACHE_SECONDS"]:
        forget_taxonomy()
    try:
        return _memory[key]
    except KeyError:
        value = _memory[key] = compute()
        return value
