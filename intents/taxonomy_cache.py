"""This process's memory of taxonomy look-ups the matcher makes for every request (a category's
ancestors, a region's enclosing regions; ``intents.selectors``), of the other rarely edited
rows every new request reads (a category's schema, the default agreement, the active review
rules; ``intents.services.publish_intent``), and of what the vendor API's inbox shows of them
(categories' slugs, regions' codes, agreements' content; ``intents.selectors``).

These change a few times a year and each look-up is a round trip per request, so they are
remembered. ``forget_taxonomy`` empties the memory: a saved or deleted Category, Region,
Agreement or ReviewRule calls it in the process that changed it (``intents.models``), so does
``renumber_regions``; and every process forgets after ``INTENTCAST["TAXONOMY_CACHE_SECONDS"]``,
which bounds how long another process may use a row that has since changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Hashable, Mapping
from typing import Any, TypeVar

from django.conf import settings

_T = TypeVar("_T")
_K = TypeVar("_K", bound=Hashable)
_memory: dict[Hashable, Any] = {}
_since = [time.monotonic()]


def forget_taxonomy(**_signal: Any) -> None:
    """Empty this process's memory of taxonomy look-ups (also a signal receiver)."""
    _memory.clear()
    _since[0] = time.monotonic()


def forget(key: Hashable) -> None:
    """Forget one remembered value in this process (read again at its next use)."""
    _memory.pop(key, None)


def _expire() -> None:
    if time.monotonic() - _since[0] > settings.INTENTCAST["TAXONOMY_CACHE_SECONDS"]:
        forget_taxonomy()


def remembered(key: Hashable, compute: Callable[[], _T]) -> _T:
    """``compute()``'s value for ``key``, computed once per process until forgotten."""
    _expire()
    try:
        return _memory[key]
    except KeyError:
        value = _memory[key] = compute()
        return value


def remembered_each(kind: str, keys: Collection[_K], compute: Callable[[set[_K]], Mapping[_K, _T]]) -> dict[_K, _T]:
    """The value of each of ``keys`` (of one ``kind``), remembered one by one: those not yet
    remembered are computed together, in one call of ``compute`` with the set of them, which
    returns the value of each (a key it leaves out is not remembered, and missing from the
    result)."""
    _expire()
    found: dict[_K, _T] = {}
    missing: set[_K] = set()
    for key in keys:
        try:
            found[key] = _memory[(kind, key)]
        except KeyError:
            missing.add(key)
    if missing:
        for key, value in compute(missing).items():
            found[key] = _memory[(kind, key)] = value
    return found
