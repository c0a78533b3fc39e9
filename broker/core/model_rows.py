"""A model's columns in a hand-written SELECT, and its instances made from a row of them as the
ORM makes them: each field's database converters, then ``Model.from_db``.

For the few hot reads whose queryset the ORM took longer to compile, on every call, than the
database took to run it (a page's bids with their vendors and three ``EXISTS`` flags cost about
2.5 ms of compiling for a query that runs in a fraction of that). The statement is written once
per process from the models' fields; Django has no public way to keep a compiled queryset and
run it again with other parameters, and no maintained library does it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, cast

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.utils.connection import ConnectionProxy

_M = TypeVar("_M", bound=Model)


class ModelColumns(Generic[_M]):
    """Every concrete column of ``model`` under the table alias ``alias`` (``sql``: for a SELECT
    list), and ``make``: the instance from the ``width`` values of a row that start at ``start``.
    Kept for the process: ``proxy`` is a proxy (``django.db.connection``, or
    ``ConnectionProxy(connections, alias)``), never one thread's connection."""

    def __init__(self, model: type[_M], alias: str, proxy: BaseDatabaseWrapper | ConnectionProxy[Any]) -> None:
        connection = cast(BaseDatabaseWrapper, proxy)  # either answers as the current thread's connection
        quote = connection.ops.quote_name
        fields = model._meta.concrete_fields
        self.model = model
        self.connection = connection
        self.attnames = [field.attname for field in fields]
        self.width = len(fields)
        self.sql = ", ".join(f"{quote(alias)}.{quote(str(field.column))}" for field in fields)
        self.converters: list[tuple[int, Callable[..., Any], Any]] = []
        for index, field in enumerate(fields):
            column = field.get_col(alias)
            for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
                self.converters.append((index, converter, column))

    def make(self, row: Sequence[Any], start: int = 0) -> _M:
        values = list(row[start : start + self.width])
        for index, converter, column in self.converters:
            values[index] = converter(values[index], column, self.connection)
        return self.model.from_db(self.connection.alias, self.attnames, values)
