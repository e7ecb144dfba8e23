"""Insert many rows of one model: COPY on PostgreSQL, bulk_create on other databases.

COPY skips what makes bulk_create slow for large launches: building a model instance per
row, preparing each value through its field, and returning the new ids.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def insert_rows(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows`, each a value per name in `fields`, into the model's table.

    `fields` are attribute names (`campaign_id`, not `campaign`). They must cover every
    non-null column without a database default, auto_now fields included, because COPY
    fills in nothing. Values must already be in database form (str, int, bool, datetime,
    None), because COPY does not pass them through the fields. No ids are returned.
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy(model, fields, rows)
    else:
        model._default_manager.bulk_create(
            model(**dict(zip(fields, row, strict=True))) for row in rows
        )


def _copy(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    columns_by_attname = {field.attname: field.column for field in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(str(columns_by_attname[name])) for name in fields)
    with connection.cursor() as cursor:
        # Binary COPY needs each column's exact type. An empty SELECT reads the types from
        # the table itself, so they match whatever the migrations created.
        cursor.execute(f"SELECT {columns} FROM {table} LIMIT 0")
        types = [column.type_code for column in cursor.description]
        # Django's cursor wrapper has no copy(); its .cursor is psycopg 3's own cursor.
        # Binary format: 100,000 rows took 0.24 s of client time against 0.60 s as text
        # (2-core machine, psycopg 3.3, an unindexed table).
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
