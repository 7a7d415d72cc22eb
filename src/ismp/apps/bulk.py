"""Fast inserts for bulk work (imports write hundreds of thousands of rows).

Django's ``bulk_create`` prepares every value of every field through the model layer, which costs more
than the database itself at this scale. ``insert_rows`` sends plain tuples with ``executemany`` (SQLite)
or ``COPY`` (PostgreSQL); the
caller gives values ready for the database (``db_datetime`` for timestamps, ``db_json`` for JSON).
Used only by services, inside their transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import connection, models

BATCH = 5000


def db_datetime(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def db_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """INSERT ``rows`` (tuples in ``columns`` order) into ``model``'s table; returns the row count."""
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        return _copy_rows(f"{quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)})", rows)
    # table and column names come from the model, never from input; values are parameters
    names, marks = ", ".join(quote(c) for c in columns), ", ".join(["%s"] * len(columns))
    return _execute_many(f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})", rows)  # noqa: S608


def with_defaults(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> tuple[tuple[str, ...], Iterable[tuple[Any, ...]]]:
    """``columns`` and ``rows`` completed with every other column of ``model`` at its default, ready for
    :func:`insert_rows` (a column added to the model later needs no change in the callers)."""
    extra = [f for f in model._meta.concrete_fields if not f.primary_key and f.column not in columns]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in extra)
    return (*columns, *(str(f.column) for f in extra)), (tuple(row) + defaults for row in rows)


def _copy_rows(target: str, rows: Iterable[Sequence[Any]]) -> int:
    """PostgreSQL: COPY … FROM STDIN, an order of magnitude faster than INSERT for large batches."""
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def update_rows(model: type[models.Model], key: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """UPDATE ``model``'s table row by row: each row is (values in ``columns`` order…, key value)."""
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
    return _execute_many(f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(key)} = %s", rows)  # noqa: S608


def _execute_many(sql: str, rows: Iterable[Sequence[Any]]) -> int:
    """Run ``sql`` once per row, sending BATCH rows at a time; returns the row count."""
    count = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, BATCH)):
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
