from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    ordering: str | tuple[str, ...] = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200


class IdCursorPagination(NewestFirstCursorPagination):
    """Newest first by a monotonic id (no ties, so nothing is skipped between pages)."""

    ordering = "-id"


class OldestFirstCursorPagination(NewestFirstCursorPagination):
    """For the event log: in the order the events happened."""

    ordering: str | tuple[str, ...] = "id"
