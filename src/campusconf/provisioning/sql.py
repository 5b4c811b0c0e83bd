"""Helpers for the engine's hand-written SQL (the batch claim and settle).

The worker's main thread claims, loads and settles every job, and its CPU per job is
the engine's ceiling (docs/engine.md). Through the ORM most of that CPU went on
building the same few statements again for every batch (filters, lookups, compilers)
and on model instances where plain values do. The statements that replace them are
built once per shape and cached; these helpers keep them honest: table and column
names come from the models' ``_meta``, and values always go as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model


def table(model: type[Model]) -> str:
    """The model's table, quoted."""
    return str(connection.ops.quote_name(model._meta.db_table))


def column(model: type[Model], name: str) -> str:
    """The column of the model's field ``name`` (``account`` → ``account_id``), quoted."""
    field = model._meta.get_field(name)
    return str(connection.ops.quote_name(str(getattr(field, "column", None) or name)))


def stamp(value: Any) -> Any:
    """A datetime as the database driver takes it (text on SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


def prepared(model: type[Model], name: str, value: Any) -> Any:
    """``value`` as the ORM would write it to the model's field ``name``."""
    field = cast(Field[Any, Any], model._meta.get_field(name))
    return field.get_db_prep_save(value, connection)


Row = list[Any]


def reader(model: type[Model], names: tuple[str, ...]) -> Callable[[Sequence[Any]], Row]:
    """What the ORM does to each fetched row of these fields: the backend's and the
    fields' converters (SQLite returns datetimes as text and booleans as 0 or 1)."""
    return _reader(connection.vendor, model, names)


@cache
def _reader(
    vendor: str, model: type[Model], names: tuple[str, ...]
) -> Callable[[Sequence[Any]], Row]:
    steps = []
    for position, name in enumerate(names):
        col = model._meta.get_field(name).get_col(model._meta.db_table)  # type: ignore[union-attr]
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if converters:
            steps.append((position, converters, col))

    def read(row: Sequence[Any]) -> Row:
        values = list(row)
        for position, converters, col in steps:
            for convert in converters:
                values[position] = convert(values[position], col, connection)
        return values

    return read
