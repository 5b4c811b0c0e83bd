"""Helpers for hand-written SQL on the engine's hot path (claim, load, settle, notices).

The worker's main thread claims, loads and settles every job, and its CPU per job is
the engine's ceiling (docs/engine.md). Through the ORM most of that CPU went on
building the same few statements again for every batch (filters, lookups, compilers)
and on model instances where plain values do. These helpers keep the statements that
replace them honest: table and column names come from the models' ``_meta``, and
values always go as parameters.

On PostgreSQL a batch's values travel as one parameter (``in_list``: an array's text;
``rows``: JSON), so a statement's text is the same whatever the batch's size: psycopg
parses a statement's placeholders in Python and caches that only for statements of
at most 50 parameters, and re-parsing the long IN and VALUES lists of every batch was
a third of a PostgreSQL worker's CPU.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.models import Field, Model


def table(model: type[Model]) -> str:
    """The model's table, quoted."""
    return _table(connection.vendor, model)


def column(model: type[Model], name: str) -> str:
    """The column of the model's field ``name`` (``account`` → ``account_id``), quoted."""
    return _column(connection.vendor, model, name)


@cache
def _table(vendor: str, model: type[Model]) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


@cache
def _column(vendor: str, model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    return str(connection.ops.quote_name(str(getattr(field, "column", None) or name)))


def stamp(value: Any) -> Any:
    """A datetime as text the database reads as the column's type.

    On PostgreSQL its ISO form: inside the JSON of ``rows`` a datetime object has the
    encoder call back into Python for every row; text it writes in C."""
    if connection.vendor == "postgresql" and value is not None:
        return value.isoformat()
    return connection.ops.adapt_datetimefield_value(value)


def prepared(model: type[Model], name: str, value: Any) -> Any:
    """``value`` as the ORM would write it to the model's field ``name``."""
    field = cast(Field[Any, Any], model._meta.get_field(name))
    return field.get_db_prep_save(value, connection)


def in_list(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """``column IN ids`` (integer ids), as SQL and its parameters."""
    if connection.vendor == "postgresql":
        # One parameter, the array's text: psycopg quotes a string in C, where it
        # builds an array literal element by element in Python.
        return f"{column} = ANY(%s::bigint[])", ["{" + ",".join(str(int(i)) for i in ids) + "}"]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def rows(
    model: type[Model], names: tuple[str, ...], values: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    """``values``, rows of the model's fields ``names``, as a query and its parameters:
    for ``INSERT INTO … (columns) <query>`` or ``WITH v (names) AS (<query>)``."""
    if connection.vendor == "postgresql":
        # One parameter, the rows as JSON, typed by the server: dumping a value per
        # row and column cost the worker more than the server spent on the statement.
        keys = [f"c{i}" for i in range(len(names))]
        shape = ", ".join(f"{k} {_db_type(model, n)}" for k, n in zip(keys, names, strict=True))
        document = json.dumps([dict(zip(keys, row, strict=True)) for row in values], default=_iso)
        query = f"SELECT {', '.join(keys)} FROM json_to_recordset(%s::json) AS r({shape})"  # noqa: S608 - the fields' own types
        return query, [document]
    row = "(" + ", ".join(["%s"] * len(names)) + ")"
    return "VALUES " + ", ".join([row] * len(values)), [value for row in values for value in row]


@cache
def _db_type(model: type[Model], name: str) -> str:  # PostgreSQL's alone
    field = cast(Field[Any, Any], model._meta.get_field(name))
    return str(field.db_type(connection))


T = TypeVar("T")
CHUNK = 500  # rows a statement, well within SQLite's limit on parameters


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items`` a statement's worth at a time."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def insert(
    model: type[Model],
    names: tuple[str, ...],
    values: Sequence[Sequence[Any]],
    tail: str = "",
) -> list[tuple[Any, ...]]:
    """``INSERT INTO`` the model's table of these fields' ``values`` (rows), a chunk a
    statement, each followed by ``tail`` (``ON CONFLICT DO NOTHING``, ``RETURNING …``);
    what ``RETURNING`` gave, in the order of the rows."""
    columns = ", ".join(column(model, n) for n in names)
    returned: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for chunk in chunks(values):
            source, params = rows(model, names, chunk)
            cursor.execute(
                f"INSERT INTO {table(model)} ({columns}) {source} {tail}",
                params,
            )
            if cursor.description is not None:  # the statement returned rows
                returned += cursor.fetchall()
    return returned


def _iso(value: Any) -> str:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value")


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
