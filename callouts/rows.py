"""Statements made once per model, for the paths a storm of replies runs many times a second.

Django compiles every query anew: for a reply, its reads, writes and inserts cost a queue
worker more CPU than everything else it did (a reply took 9-10 ms of CPU, 5 ms once its
statements here were made once). `insert`, `update`, `select` and `get` make the same
statements the ORM would, once per model and shape, and convert values both ways as the ORM
does (defaults, auto_now_add, JSON, booleans and datetimes on each database). Like bulk_create
and update() they send no model signals (none are connected to the models they are used for).
Used on the reply path, and for a step's messages and events (many rows at once: on PostgreSQL
as arrays); everywhere else the ORM is plainer and fast enough.
"""

import functools
import time

import psycopg
from django.db import connection


def insert(objs: list) -> list:
    """Save these new instances of one model in one statement; they get their primary keys."""
    if not objs:
        return objs
    model = type(objs[0])
    fields = _fields(model)
    # SQLite takes a limited number of parameters a statement: as many rows as fit.
    size = max(1, connection.ops.bulk_batch_size(fields, objs))
    for start in range(0, len(objs), size):
        _insert(model, objs[start : start + size])
    return objs


def _insert(model, objs):
    if connection.vendor == "postgresql" and len(objs) >= UNNEST_FROM:
        return _insert_unnest(model, objs)
    sql, fields = insert_statement(model, len(objs), connection.vendor)
    values = [
        field.get_db_prep_save(field.pre_save(obj, True), connection)
        for obj in objs
        for field in fields
    ]
    _run_insert(model, objs, sql, values)


# Below this many rows VALUES is quicker (its statement is made once per count of rows);
# from it on, arrays are (300 events: 7 ms against 12).
UNNEST_FROM = 10


def _insert_unnest(model, objs):
    """Many rows as one array a column, as bulk_create does on PostgreSQL: a statement of a
    few placeholders, where a step's 300 messages as VALUES made one of 8,000 that psycopg
    parsed and PostgreSQL planned anew each time (a third of firing the step).

    The arrays go as binary parameters, bound by the server, on a cursor of psycopg's own:
    Django's binds on the client, writing each array into the statement as text, every
    element checked and quoted (a step's 300 messages and 300 events: 25-30 ms of its
    firing). That cursor is not Django's: its errors are turned into Django's, and the
    insert is added to Django's query log, here.
    """
    sql, fields = _unnest_statement(model)
    columns = [
        [field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in objs]
        for field in fields
    ]
    connection.ensure_connection()
    began = time.monotonic()
    # Errors as Django's own cursor raises them (a duplicate is django.db.IntegrityError,
    # which outbox.insert catches to keep the rows that are new).
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        # Not prepared: the statement is the same each time, but a pooler in transaction
        # mode (PgBouncer) may hand the next transaction another server connection.
        cursor.execute(sql, columns, prepare=False)
        _set_keys(model, objs, cursor.fetchall())
    if connection.queries_logged:
        took = time.monotonic() - began
        connection.queries_log.append({"sql": f"{sql} -- {len(objs)} rows", "time": f"{took:.3f}"})


@functools.lru_cache(maxsize=32)
def _unnest_statement(model) -> tuple[str, list]:
    fields = _fields(model)
    quote = connection.ops.quote_name
    # Without the length (varchar[] not varchar(20)[]): nothing is cut short on the way.
    arrays = ", ".join(f"(%b)::{field.db_type(connection).split('(')[0]}[]" for field in fields)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"SELECT * FROM UNNEST({arrays}) RETURNING {quote(model._meta.pk.column)}"
    )
    return sql, fields


def _run_insert(model, objs, sql, values):
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        _set_keys(model, objs, cursor.fetchall())


def _set_keys(model, objs, keys):
    pk = model._meta.pk.attname
    for obj, (key,) in zip(objs, keys, strict=True):
        setattr(obj, pk, key)
        obj._state.adding = False
        obj._state.db = connection.alias


def _fields(model):
    return [field for field in model._meta.concrete_fields if not field.primary_key]


@functools.lru_cache(maxsize=128)
def insert_statement(model, rows: int, vendor: str) -> tuple[str, list]:
    """The INSERT of `rows` rows of `model` for this database (`vendor` keys the cache), and
    its fields in column order; it returns each new primary key."""
    fields = _fields(model)
    quote = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([row] * rows)} RETURNING {quote(model._meta.pk.column)}"
    )
    return sql, fields


def update(obj, fields: tuple[str, ...]) -> int:
    """save(update_fields=fields) with a statement made once; how many rows it changed."""
    model = type(obj)
    sql, columns = _update_statement(model, tuple(fields), connection.vendor)
    values = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, obj.pk])
        return cursor.rowcount


@functools.lru_cache(maxsize=128)
def _update_statement(model, fields: tuple[str, ...], vendor: str) -> tuple[str, list]:
    columns = [model._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(model._meta.db_table)} "
        f"SET {', '.join(f'{quote(field.column)} = %s' for field in columns)} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    return sql, columns


class Shape:
    """A model's columns as a SELECT lists them, and how to make an instance of a row's values."""

    def __init__(self, model):
        self.model = model
        self.fields = model._meta.concrete_fields
        self.names = [field.attname for field in self.fields]
        table = model._meta.db_table
        self.converters = []
        for index, field in enumerate(self.fields):
            column = field.get_col(table)
            steps = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if steps:
                self.converters.append((index, [(convert, column) for convert in steps]))

    def __len__(self):
        return len(self.fields)

    def columns(self, alias: str) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{quote(alias)}.{quote(field.column)}" for field in self.fields)

    def make(self, values):
        """An instance of these values (as the database returned them, in `columns` order)."""
        values = list(values)
        if all(value is None for value in values):
            return None  # the missing side of an outer join
        for index, steps in self.converters:
            for convert, expression in steps:
                values[index] = convert(values[index], expression, connection)
        return self.model.from_db(connection.alias, self.names, values)


@functools.lru_cache(maxsize=32)
def shape(model, vendor: str | None = None) -> Shape:
    """`vendor` keys the cache: converters differ between databases."""
    return Shape(model)


def select(model, where: str, params, *, lock: bool = False) -> list:
    """Instances of `model` from `SELECT <every column> FROM <its table> WHERE <where>`.

    `where` is SQL written against the model's own table (its columns by name; it may end
    in ORDER BY or LIMIT); `lock` adds FOR NO KEY UPDATE where the database has it (the
    mode of callouts.locking; SQLite has one writer at a time anyway). Values are converted
    as the ORM converts them.
    """
    found = shape(model, connection.vendor)
    sql = _select_statement(model, where, lock, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [found.make(row) for row in cursor.fetchall()]


@functools.lru_cache(maxsize=128)
def _select_statement(model, where: str, lock: bool, vendor: str) -> str:
    table = model._meta.db_table
    mode = ""
    if lock and connection.features.has_select_for_update:
        no_key = connection.features.has_select_for_no_key_update
        mode = " FOR NO KEY UPDATE" if no_key else " FOR UPDATE"
    return (
        f"SELECT {shape(model, vendor).columns(table)} "
        f"FROM {connection.ops.quote_name(table)} WHERE {where}{mode}"
    )


def get(model, pk, *, lock: bool = False):
    """One instance by primary key (locked with `lock`), or model.DoesNotExist."""
    found = select(
        model, f"{connection.ops.quote_name(model._meta.pk.column)} = %s", [pk], lock=lock
    )
    if not found:
        raise model.DoesNotExist(f"{model.__name__} {pk} does not exist")
    return found[0]
