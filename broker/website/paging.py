"""Every list of the website comes a page at a time (Django's Paginator), so a customer with
20,000 requests gets a page as fast as one with five. ``?page=`` that is not a page number
shows the first page, past the end the last one: a link typed by hand never fails."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PAGE_SIZE = 25


def page_of(request: HttpRequest, items: Sequence[Any] | Any, *, per_page: int = PAGE_SIZE, last: bool = False) -> Page:
    """The page ``?page=`` asks for (``last``: the last page when it asks for none, as a
    conversation opens on its newest messages). ``items``: a list or an ordered QuerySet."""
    paginator = Paginator(items, per_page)
    raw = request.GET.get("page")
    if raw is None and last:
        return paginator.page(paginator.num_pages)
    number = int(raw) if raw and raw.isascii() and raw.isdigit() else 1
    return paginator.page(min(max(number, 1), paginator.num_pages))
