"""The SQL of the cadre app that the ORM cannot write fast enough: a confirmed CSV import,
tens of thousands of rows in one request. Plain statements, each checked against the ORM's
bulk_create and bulk_update on the same data (tests/cadre/test_sql.py).

bulk_create and bulk_update took 7.0 s for 18,000 new people and 21.2 s for 18,000 changes
(target 5 s); COPY on PostgreSQL and multi-row INSERTs on SQLite, and one UPDATE run for
each row (executemany), take a tenth of that
(docs/decisions/0004-django-orm-and-where-sql-remains.md).
"""

from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import connection

from cadre.models import Accreditation, Membership, Negotiator

NOW = "now"  # in DEFAULTS: the time of the import

# Each table the import inserts into: the columns its rows give, in their order, and every
# other column with the value each imported row gets (the field's default; the time of the
# import for automatic times). A column left out is NULL.
INSERTS = {
    User: (
        "auth_user",
        "username, password",
        "first_name, last_name, email, is_superuser, is_staff, is_active, date_joined",
        ("", "", "", False, False, True, NOW),
    ),
    Negotiator: (
        "cadre_negotiator",
        "force_id, callsign, full_name, mobile, is_negotiator, is_coordinator, is_adviser, user_id",
        "active, created_at, updated_at",
        (True, NOW, NOW),
    ),
    Membership: (
        "cadre_membership",
        "user_id, force_id, is_negotiator",
        "is_coordinator, is_supervisor, created_at",
        (False, False, NOW),
    ),
    Accreditation: (
        "cadre_accreditation",
        "negotiator_id, kind, passed_on, valid_until, note",
        "",
        (),
    ),
}

# The changes an import makes: each row its values, then the row's id.
CHANGE_PERSON = (
    "UPDATE cadre_negotiator SET full_name = %s, mobile = %s, is_negotiator = %s, "
    "is_coordinator = %s, is_adviser = %s, updated_at = %s WHERE id = %s"
)
CHANGE_LOGIN = "UPDATE cadre_negotiator SET user_id = %s, updated_at = %s WHERE id = %s"
GRANT_NEGOTIATOR = "UPDATE cadre_membership SET is_negotiator = %s WHERE id = %s"


def insert(model, rows, now: datetime) -> None:
    """INSERT `rows` (values for INSERTS[model]'s given columns) into `model`'s table."""
    if not rows:
        return
    table, given, others, defaults = INSERTS[model]
    columns = f"{given}, {others}" if others else given
    fixed = tuple(now if value == NOW else value for value in defaults)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: PostgreSQL's own way in for many rows, ten times an INSERT's speed.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(tuple(row) + fixed)
            return
        width = len(rows[0]) + len(fixed)
        one = "(" + ", ".join(["%s"] * width) + ")"
        per_statement = max(1, min(1000, (connection.features.max_query_params or 65535) // width))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([one] * len(chunk)),
                [_adapt(value) for row in chunk for value in (*row, *fixed)],
            )


def update(statement: str, rows) -> None:
    """Run one of the UPDATEs above for each of `rows`."""
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(statement, [[_adapt(value) for value in row] for row in rows])


def _adapt(value):
    """A value as the database takes it: only dates and times need it."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value
